"""Sentence embeddings for the encoder family: load a sentence-transformers encoder (safetensors only, no code
from the folder), embed texts (sentence-transformers batches them by length), and keep recent texts' embeddings
in memory (keyed by the encoder and a hash of each text), so that a second run on the same rows or some of them,
with other head settings, and predictions on texts already seen skip the slow part. The cache lives in this
process only: nothing of a user's data is written outside the run."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch

from .. import encoders, preparing
from .base import error_reason

__all__ = ["cached_count", "embed", "load_encoder", "pair_features"]
EMBED_BATCH = 32
EMBED_CHUNK = 2 * EMBED_BATCH  # texts between two progress reports: about 10 s of mpnet on 2 cores
CACHE_BYTES = 512 * 1024 * 1024  # the most memory the cached embeddings take; the oldest go first
_cache: OrderedDict[str, torch.Tensor] = OrderedDict()


def load_encoder(name: str) -> Any:
    """A SentenceTransformer on this machine's device; one clear sentence when it cannot be loaded."""
    from sentence_transformers import SentenceTransformer

    source = encoders.encoder_path(name)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        return SentenceTransformer(
            source, device=device, trust_remote_code=False, model_kwargs={"use_safetensors": True}
        ).eval()
    except (OSError, ValueError, KeyError) as error:
        reason = error_reason(error)
        raise ValueError(
            f"Could not load the sentence encoder '{name}' ({reason}); give a sentence-transformers folder or "
            f"Hub id, or without a network one of: {', '.join(e.name for e in encoders.offline_encoders())}."
        ) from error


def cache_key(encoder_key: str, text: str) -> str:
    return hashlib.sha256(f"{encoder_key}\x00{text}".encode("utf-8", "surrogatepass")).hexdigest()


def _remember(keys: list[str], embeddings: torch.Tensor) -> None:
    for key, row in zip(keys, embeddings):
        _cache[key] = row.clone()  # a row of its own, so that the batch's tensor is not kept alive by one row
    row_bytes = embeddings.shape[1] * embeddings.element_size() if len(embeddings) else 0
    while row_bytes and len(_cache) * row_bytes > CACHE_BYTES:
        _cache.popitem(last=False)


def cached_count() -> int:
    """How many texts' embeddings the cache holds."""
    return len(_cache)


@torch.inference_mode()
def embed(encoder: Any, texts: Sequence[str], encoder_key: str | None, stage: str = "") -> torch.Tensor:
    """The texts' sentence embeddings as a CPU float tensor. With an `encoder_key` (an encoder that cannot change
    under that name), each text's embedding is taken from the cache where it is there, and kept there. With a
    `stage`, how many are done is reported (preparing.py) every few batches."""
    texts = list(texts)
    keys = [cache_key(encoder_key, t) for t in texts] if encoder_key is not None else None
    missing = list(range(len(texts))) if keys is None else [i for i, k in enumerate(keys) if k not in _cache]
    out = torch.empty(len(texts), encoder.get_embedding_dimension())
    # longest first, as sentence-transformers orders a call's batches, but across the chunks that report progress
    missing.sort(key=lambda i: -len(texts[i]))
    for start in range(0, len(missing), EMBED_CHUNK):
        if stage:
            preparing.report(stage, start, len(missing))
        chunk = missing[start : start + EMBED_CHUNK]
        fresh = (
            encoder.encode(
                [texts[i] for i in chunk], batch_size=EMBED_BATCH, convert_to_tensor=True, show_progress_bar=False
            )
            .float()
            .cpu()
        )
        out[chunk] = fresh
        if keys is not None:
            _remember([keys[i] for i in chunk], fresh)
    if stage and missing:
        preparing.report(stage, len(missing), len(missing))
    if keys is not None:
        fresh_rows = set(missing)
        for i in (i for i in range(len(texts)) if i not in fresh_rows):
            _cache.move_to_end(keys[i])
            out[i] = _cache[keys[i]]
    return out


def pair_features(encoder: Any, rows: dict[str, list], encoder_key: str | None, stage: str = "") -> torch.Tensor:
    """What the head reads: the text's embedding, or for a pair [u, v, |u - v|, u * v] (SBERT's classifier input)."""
    u = embed(encoder, rows["text"], encoder_key, stage)
    if "text_pair" not in rows:
        return u
    v = embed(encoder, [p or "" for p in rows["text_pair"]], encoder_key, f"{stage} (second texts)" if stage else "")
    return torch.cat([u, v, (u - v).abs(), u * v], dim=1)
