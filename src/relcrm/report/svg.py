"""A few SVG primitives, written as text: charts that show without JavaScript, in any
browser and in mail clients, and cost nothing to load (no library, no font, no network)."""

from __future__ import annotations

from html import escape


def attr(value: object) -> str:
    """A value as an attribute's text (quoted by the caller): escaped, numbers short."""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return escape(str(value), quote=True)


def element(tag: str, body: str = "", **attributes: object) -> str:
    """``<tag a="..">body</tag>``; attribute names use ``_`` for ``-`` (``class_`` for
    ``class``); None values are left out."""
    parts = [tag]
    for name, value in attributes.items():
        if value is None:
            continue
        parts.append(f'{name.rstrip("_").replace("_", "-")}="{attr(value)}"')
    head = " ".join(parts)
    return f"<{head}>{body}</{tag}>" if body else f"<{head}/>"


def text(x: float, y: float, content: str, **attributes: object) -> str:
    return element("text", escape(content), x=x, y=y, **attributes)


def title(content: str) -> str:
    """A tooltip (and an accessible name) for the element it is put in."""
    return f"<title>{escape(content)}</title>"


def svg(chart: str, width: int, height: int, label: str, body: list[str]) -> str:
    """An SVG chart: ``data-chart`` names it (the tests look for it), ``role="img"`` and
    the label make it readable by screen readers."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" data-chart="{attr(chart)}" role="img" '
        f'aria-label="{attr(label)}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" class="chart">' + title(label) + "".join(body) + "</svg>"
    )
