"""Shared prefixes: rows that start with the same long run of tokens run it once.

The two orders of a pair are one text up to where the first response starts (instructions and
request); the two responses of a reward pair share everything before the response. Such rows form a
group: its prefix goes through the model once, with a KV cache, and each member continues from a copy
of that cache with only its own tokens. Causal attention makes this exact: a position reads only
the positions before it, whichever forward pass computed their keys and values.

Prefixes of one batch are left-padded, so every row's real tokens are contiguous in the cache (a
sliding window counted in cache slots is then a window in positions) and the continuations all start
at the same slot; explicit position ids keep each row's own numbering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

MIN_SHARED_TOKENS = 32  # below this a second forward pass costs more than the tokens it saves


@dataclass(frozen=True)
class PrefixGroup:
    length: int  # the tokens every member starts with, run once
    members: tuple[int, ...]  # row indices, ascending


def common_length(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def prefix_groups(
    rows: Sequence[Sequence[int]], *, min_shared: int = MIN_SHARED_TOKENS
) -> tuple[list[PrefixGroup], list[int]]:
    """(groups of rows sharing a prefix of at least `min_shared` tokens, the indices of the other rows).

    Rows are sorted; two neighbours join when the prefix they share is the longest either shares with
    a neighbour, so a batch of pairs groups pair by pair (a long shared prefix) rather than all on the
    instructions every query starts with. A group's prefix leaves each member at least its last token,
    the answer position, to run after the cache.
    """
    n = len(rows)
    order = sorted(range(n), key=lambda i: tuple(rows[i]))
    shared = [common_length(rows[order[k]], rows[order[k + 1]]) for k in range(n - 1)]
    best = [max(shared[k - 1] if k > 0 else 0, shared[k] if k < n - 1 else 0) for k in range(n)]
    runs: list[list[int]] = [[order[0]]] if n else []
    for k in range(n - 1):
        if shared[k] >= min_shared and shared[k] == best[k] == best[k + 1]:
            runs[-1].append(order[k + 1])
        else:
            runs.append([order[k + 1]])
    groups: list[PrefixGroup] = []
    alone: list[int] = []
    for run in runs:
        length = 0
        if len(run) > 1:
            length = min(common_length(rows[run[0]], rows[run[1]]), min(len(rows[i]) for i in run) - 1)
        if length >= min_shared:
            groups.append(PrefixGroup(length, tuple(sorted(run))))
        else:
            alone.extend(run)
    groups.sort(key=lambda g: g.members[0])
    return groups, sorted(alone)


def plan_group_batches(
    groups: Sequence[PrefixGroup],
    rows: Sequence[Sequence[int]],
    *,
    batch_tokens: int | None,
    max_batch_size: int,
) -> list[list[PrefixGroup]]:
    """Batches of groups, widest first: at most `max_batch_size` continuation rows and (when given)
    `batch_tokens` padded tokens (prefix rows plus continuation rows) per batch. A group with more
    members than a batch holds is split; each part runs the prefix again."""
    parts = [
        PrefixGroup(g.length, g.members[i : i + max_batch_size])
        for g in groups
        for i in range(0, len(g.members), max_batch_size)
    ]

    def tail(g: PrefixGroup) -> int:
        return max(len(rows[i]) for i in g.members) - g.length

    parts.sort(key=lambda g: (-tail(g), -g.length, g.members[0]))
    batches: list[list[PrefixGroup]] = []
    current: list[PrefixGroup] = []
    for g in parts:
        trial = [*current, g]
        members = sum(len(p.members) for p in trial)
        tokens = len(trial) * max(p.length for p in trial) + members * max(tail(p) for p in trial)
        if current and (members > max_batch_size or (batch_tokens is not None and tokens > batch_tokens)):
            batches.append(current)
            current = []
        current.append(g)
    if current:
        batches.append(current)
    return batches


@dataclass(frozen=True)
class PrefixRun:
    """The two forward passes of one batch of groups.

    `first` ran the left-padded prefixes ([groups, width]); `second` the continuations ([members,
    tails]), members in batch order (`members`), each reading its group's cached prefix.
    """

    first: Any  # the decoder's output for the prefixes
    second: Any  # the decoder's output for the continuations
    members: tuple[int, ...]  # row index of each continuation row
    owner: tuple[int, ...]  # the batch position of each continuation row's group
    lengths: tuple[int, ...]  # each group's prefix length
    width: int  # padded prefix width (prefix token j of group g sits at slot width - length + j)
    tails: tuple[int, ...]  # each continuation row's own token count


def run_groups(
    body: Any,
    batch: Sequence[PrefixGroup],
    rows: Sequence[Sequence[int]],
    *,
    pad: int,
    device: torch.device,
    hidden_states: bool = False,
) -> PrefixRun:
    """Run each group's prefix once and every member's own tokens after it (see the module docstring).

    `body` is the decoder (`model.get_decoder()`), called with `cache=`, explicit position ids and a
    2D attention mask over cache plus new tokens; `hidden_states` asks it for every layer's states.
    """
    import torch
    from transformers import DynamicCache

    from flame_judge.scoring import pad_right

    width = max(g.length for g in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    pos = torch.zeros((len(batch), width), dtype=torch.long)
    for n, g in enumerate(batch):
        start = width - g.length
        ids[n, start:] = torch.tensor(list(rows[g.members[0]][: g.length]))
        mask[n, start:] = 1
        pos[n, start:] = torch.arange(g.length)
    cache = DynamicCache(config=body.config)
    extra = {"output_hidden_states": True} if hidden_states else {}
    first = body(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        position_ids=pos.to(device),
        cache=cache,
        use_cache=True,
        **extra,
    )
    owner = [n for n, g in enumerate(batch) for _ in g.members]
    members = [i for g in batch for i in g.members]
    cache.batch_select_indices(torch.tensor(owner, device=device))  # one copy of its group's prefix per member
    tails = [list(rows[i][batch[n].length :]) for n, i in zip(owner, members, strict=True)]
    tail_ids, tail_mask = pad_right(tails, pad)
    full_mask = torch.cat([mask[torch.tensor(owner)], tail_mask], dim=1)
    starts = torch.tensor([batch[n].length for n in owner])
    tail_pos = starts[:, None] + torch.arange(tail_ids.shape[1])[None, :]
    second = body(
        input_ids=tail_ids.to(device),
        attention_mask=full_mask.to(device),
        position_ids=tail_pos.to(device),
        cache=cache,
        use_cache=True,
        **extra,
    )
    return PrefixRun(
        first,
        second,
        tuple(members),
        tuple(owner),
        tuple(g.length for g in batch),
        width,
        tuple(len(t) for t in tails),
    )


def sharing_works(body: Any, device: torch.device, *, pad: int = 0) -> bool:
    """Whether `body` continues exactly from a shared prefix: a probe of two rows with a common
    prefix, run whole and shared. A decoder without a `cache=` argument, with a state that is not a
    per-position KV cache, or that disagrees on the probe, has its rows run whole instead."""
    import inspect

    import torch

    if "cache" not in inspect.signature(body.forward).parameters:
        return False
    vocab = int(body.get_input_embeddings().weight.shape[0])
    head = [(7919 * (i + 1)) % vocab for i in range(12)]
    rows = [[*head, 5 % vocab, 9 % vocab], [*head, 11 % vocab]]
    try:
        with torch.inference_mode():
            run = run_groups(body, [PrefixGroup(len(head), (0, 1))], rows, pad=pad, device=device)
            shared = run.second.last_hidden_state
            for n, row in enumerate(rows):
                whole = body(input_ids=torch.tensor([row], device=device)).last_hidden_state[0, -1]
                got = shared[n, run.tails[n] - 1]
                if not torch.allclose(got.float(), whole.float(), atol=1e-3, rtol=1e-3):
                    return False
    except (TypeError, ValueError, RuntimeError, AttributeError, NotImplementedError):
        return False
    return True
