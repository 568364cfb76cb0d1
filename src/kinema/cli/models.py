"""``kinema models``: the catalog."""

from __future__ import annotations

from rich.table import Table

from kinema.cli.common import console


def models() -> None:
    """List the model catalog and the engine serving each model."""
    from kinema.domain.catalog import Catalog

    table = Table(title="Kinema models")
    table.add_column("id", no_wrap=True)
    for column in ("engine", "modes", "resolutions", "duration", "audio"):
        table.add_column(column)
    for spec in Catalog().models:
        low, high = spec.durations
        table.add_row(
            spec.id,
            spec.engine,
            ", ".join(sorted(m.label for m in spec.modes)),
            " ".join(spec.resolutions),
            f"{low}-{high} s" + (" or -1" if spec.auto_duration else ""),
            "yes" if spec.audio else "no",
        )
    console.print(table)
    console.print(
        "The preview engine is procedural (shapes, gradients and synthesised sound chosen "
        "from the prompt), not a neural network."
    )
