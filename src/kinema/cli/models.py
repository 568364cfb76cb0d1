"""``kinema models``: the catalog, with the models file's entries and their weights."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kinema.cli.common import console, err_console, settings_from
from kinema.cli.remote import ApiKeyOption, BaseUrlOption

if TYPE_CHECKING:
    from kinema.config import Settings
    from kinema.domain.catalog import Catalog, ModelSpec

ModelsOption = Annotated[
    Path | None,
    typer.Option("--models", help="TOML models file: own models and open-weight engines "
                 "[default: none; env KINEMA_MODELS_FILE]"),
]  # fmt: skip
RemoteOption = Annotated[
    bool,
    typer.Option("--remote", help="List the models a running server offers (its GET "
                 "/api/v3/models) instead of the local catalog; implied by --base-url"),
]  # fmt: skip


def load_catalog_or_exit(settings: Settings) -> Catalog:
    """The catalog from the settings' models file; one error line and exit 2 if it is wrong."""
    from kinema.domain.models_file import ModelsFileError, load_catalog

    try:
        return load_catalog(settings.models_file)
    except ModelsFileError as exc:
        raise fail_line(str(exc)) from None


def fail_line(message: str) -> typer.Exit:
    """Print ``message`` as one unwrapped error line (it holds paths and ``[extras]``)."""
    err_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def check_engines(catalog: Catalog, names: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Refuse to start when a model to be served lacks its engine's packages (one clear line).

    ``names`` are the models a worker was told to serve (all when empty); returns their
    canonical ids. Nothing is imported: a worker never loads torch.
    """
    from kinema.domain.errors import ModelNotFound
    from kinema.engines.registry import missing_extra

    try:
        served = [catalog.get(name) for name in names] if names else list(catalog.models)
    except ModelNotFound as exc:
        raise fail_line(str(exc)) from None
    for spec in served:
        problem = missing_extra(spec.engine)
        if problem is not None:
            entry = spec.engine_config.get("model")
            via = f" (served by {entry})" if entry and entry != spec.id else ""
            raise fail_line(f"model {spec.id}{via}: {problem}")
    return tuple(spec.id for spec in served) if names else ()


def models(
    models_file: ModelsOption = None,
    remote: RemoteOption = False,
    base_url: BaseUrlOption = None,
    api_key: ApiKeyOption = None,
) -> None:
    """List the model catalog, the engine serving each model, and each weights folder's state.

    With --remote (or --base-url): the catalog of a running server instead.
    """
    from kinema.engines.registry import missing_extra

    if remote or base_url:
        if models_file is not None:
            raise fail_line("--models reads a local models file; --remote asks a server: not both")
        from kinema.cli.remote import show_server_models

        show_server_models(base_url, api_key)
        return
    catalog = load_catalog_or_exit(settings_from(models_file=models_file))
    table = Table(title="Kinema models")
    table.add_column("id", no_wrap=True)
    for column in ("engine", "modes", "resolutions", "duration", "audio", "weights"):
        table.add_column(column)
    for spec in catalog.models:
        low, high = spec.durations
        table.add_row(
            spec.id,
            _engine(spec),
            ", ".join(sorted(m.label for m in spec.modes)),
            " ".join(spec.resolutions),
            f"{low}-{high} s" + (" or -1" if spec.auto_duration else ""),
            "yes" if spec.audio else "no",
            _weights(spec)[0],
        )
    console.print(table)
    for spec in catalog.models:
        state, detail = _weights(spec)
        if detail and spec.engine_config.get("model") == spec.id:
            colour = "green" if state == "complete" else "red"
            console.print(f"{spec.id}: [{colour}]{escape(detail)}[/{colour}]", highlight=False,
                          soft_wrap=True)  # fmt: skip
    for engine in sorted({spec.engine for spec in catalog.models}):
        problem = missing_extra(engine)
        if problem is not None:
            console.print(f"[red]not installed:[/red] {escape(problem)}", highlight=False,
                          soft_wrap=True)  # fmt: skip
    console.print(
        "The preview engine is procedural (shapes, gradients and synthesised sound chosen "
        "from the prompt), not a neural network."
    )


def _engine(spec: ModelSpec) -> str:
    entry = spec.engine_config.get("model")
    if entry and entry != spec.id:
        return f"{spec.engine} ({entry}, {spec.engine_config.get('family')})"
    family = spec.engine_config.get("family")
    return f"{spec.engine} ({family})" if family else spec.engine


def _weights(spec: ModelSpec) -> tuple[str, str]:
    """(``complete`` or ``missing``, the folder or what is wrong); empty without weights."""
    from kinema.engines.diffusers.families import FAMILIES
    from kinema.engines.diffusers.weights import weights_problem

    folder = spec.engine_config.get("weights")
    if not folder:
        return "", ""
    family = FAMILIES.get(str(spec.engine_config.get("family")))
    problem = weights_problem(Path(str(folder)), family)
    if problem is not None:
        return "missing", f"weights missing or incomplete: {problem}"
    return "complete", f"weights complete at {folder}"
