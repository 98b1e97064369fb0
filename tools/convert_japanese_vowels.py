"""Convert the Japanese Vowels .ts files into the one compact file glassgrad ships.

The data set (UCI "Japanese Vowels", Kudo, Toyama and Shimbo 1999) is bundled in the ``aeon``
wheel as two text files in the sktime ``.ts`` format. To rebuild
``src/glassgrad/datasets/data/japanese_vowels.npz`` from them::

    pip download aeon==1.6.0 --no-deps -d /tmp/aeon_wheel
    cd /tmp/aeon_wheel && unzip -j aeon-1.6.0-py3-none-any.whl \\
        'aeon/datasets/data/JapaneseVowels/JapaneseVowels_TRAIN.ts' \\
        'aeon/datasets/data/JapaneseVowels/JapaneseVowels_TEST.ts'
    python tools/convert_japanese_vowels.py /tmp/aeon_wheel

then put the printed sha256 into ``glassgrad/datasets/japanese_vowels.py`` and the data README.
glassgrad does not depend on aeon: the files are parsed here by hand. The output is byte for byte
reproducible (the zip entries get a fixed timestamp), so the same inputs give the same sha256.

Layout of a ``.ts`` data line: 12 comma-separated series (one per LPC cepstrum coefficient, all
of the utterance's length T) separated by ``:``, then the class label (a speaker, 1-9).
The output holds ``frames`` (float32, (total frames, 12): all utterances, train then test, one
after another), ``offsets`` (int64, utterance i is ``frames[offsets[i]:offsets[i + 1]]``),
``labels`` (int8, speakers 0-8) and ``is_test`` (bool, per utterance).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

DIMENSIONS = 12
OUT = Path(__file__).resolve().parents[1] / "src" / "glassgrad" / "datasets" / "data" / "japanese_vowels.npz"


def parse_ts(text: str) -> tuple[list[np.ndarray], list[int]]:
    """The utterances ((T, 12) arrays, frames in rows) and labels (1-9) of one .ts file."""
    utterances, labels = [], []
    in_data = False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if line.lower() == "@data":
                in_data = True
            elif line.lower().startswith("@dimensions") and int(line.split()[1]) != DIMENSIONS:
                raise ValueError(f"line {number}: expected @dimensions {DIMENSIONS}, got {line!r}")
            continue
        *channels, label = line.split(":")
        if len(channels) != DIMENSIONS:
            raise ValueError(f"line {number}: expected {DIMENSIONS} channels, got {len(channels)}")
        series = [np.array(c.split(","), dtype=np.float64) for c in channels]
        if len({len(s) for s in series}) != 1:
            raise ValueError(f"line {number}: channels of different lengths {[len(s) for s in series]}")
        utterances.append(np.stack(series, axis=1))  # (T, 12): one row per frame
        labels.append(int(label))
    if not in_data:
        raise ValueError("no @data section found")
    return utterances, labels


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (what np.load reads) with a fixed timestamp on every entry, so reruns match."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            entry = io.BytesIO()
            np.lib.format.write_array(entry, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1999, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entry.getvalue(), compresslevel=9)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder with JapaneseVowels_TRAIN.ts and JapaneseVowels_TEST.ts")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    parts = [parse_ts((args.folder / f"JapaneseVowels_{s}.ts").read_text("ascii")) for s in ("TRAIN", "TEST")]
    utterances = [u for us, _ in parts for u in us]
    lengths = np.array([len(u) for u in utterances])
    arrays = {
        "frames": np.concatenate(utterances).astype(np.float32),
        "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        "labels": np.array([label - 1 for _, ls in parts for label in ls], dtype=np.int8),
        "is_test": np.repeat([False, True], [len(parts[0][0]), len(parts[1][0])]),
    }
    data = _write_npz(args.out, arrays)
    print(f"{args.out}: {len(parts[0][0])} train + {len(parts[1][0])} test utterances, "
          f"{lengths.min()}-{lengths.max()} frames, {len(data)} bytes")
    print(f"sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
