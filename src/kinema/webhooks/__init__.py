"""Webhooks: delivering the callbacks outbox to each task's ``callback_url``, signed.

``signing`` makes and checks the ``X-Kinema-Signature`` header (receivers may use it too);
``dispatcher`` leases due callbacks from the store, POSTs them, and retries or dead-letters them.
"""
