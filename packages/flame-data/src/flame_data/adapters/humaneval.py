"""OpenAI HumanEval problems.

Yields no training tasks: it holds problems, reference solutions and unit tests, not human
judgments. flame's code re-ranking evaluation builds candidate pools from it instead, and training
on it would contaminate RM-Bench-code (SOURCE.md).
"""

from __future__ import annotations

from flame_data.adapter import NoTaskAdapter
from flame_data.registry import register


@register
class HumanEval(NoTaskAdapter):
    name = "humaneval"
    title = "HumanEval problems (code-task seed data, not human judgments)"
    homepage = "https://github.com/openai/human-eval"
    license = "MIT"
    tasks = ()
