"""XSum hallucination annotations (Maynez et al., 2020).

Yields nothing here: every row references its XSum source document by `bbcid`, and the articles are
not part of the local copy, so no (document, summary) input can be built. With the XSum corpus at
hand, join on bbcid to use `is_factual` (classification) and the Faithful/Factual scores.
"""

from __future__ import annotations

from flame_data.adapter import NoTaskAdapter
from flame_data.registry import register


@register
class XSumHallucination(NoTaskAdapter):
    name = "xsum_hallucination"
    title = "XSum hallucination annotations (articles absent)"
    homepage = "https://github.com/google-research-datasets/xsum_hallucination_annotations"
    license = "CC-BY-4.0"
    tasks = ()
