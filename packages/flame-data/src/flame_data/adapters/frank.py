"""FRANK: human factuality annotations of CNN/DM and XSum summaries.

Yields nothing here: the article and summary texts live in data/benchmark_data.json, which is not in
the local copy (only the per-(article, system) scores are). Point this adapter's folder at a full
download of https://github.com/artidoro/frank and extend `read` to join on (hash, model_name).
"""

from __future__ import annotations

from flame_data.adapter import NoTaskAdapter
from flame_data.registry import register


@register
class FRANK(NoTaskAdapter):
    name = "frank"
    title = "FRANK factuality annotations (scores only; text absent)"
    homepage = "https://github.com/artidoro/frank"
    license = "MIT"
    tasks = ()
