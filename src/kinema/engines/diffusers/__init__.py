"""The diffusers engine: open-weight video models (Wan 2.x, LTX-Video) from local weights.

Only ``families`` and ``weights`` are safe to import without torch (the worker and the models
file use them); ``engine`` and ``loading`` import torch and diffusers and run in the engine child.
"""
