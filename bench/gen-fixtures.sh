#!/usr/bin/env bash
# gen-fixtures.sh: writes the benchmark fixtures to bench/out/ (or $BENCH_FIXTURES):
#   ct512.dcm       one 512x512 16-bit CT slice, Explicit VR Little Endian (~0.5 MB)
#   multiframe.dcm  the same header with NumberOfFrames 600 and an Enhanced CT SOP
#                   class, 600 frames of 512x512 16-bit (~300 MB)
# Both take the header of a real CT file (CT_small.dcm from the shared corpus, or
# from Debian's python3-pydicom) and deterministic pseudo-random pixel data.
# Existing fixtures are kept; pass -f to rewrite them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_FIXTURES:-$here/out}
force=0
[[ ${1:-} == -f ]] && force=1

python=/usr/bin/python3
if ! "$python" -c 'import pydicom' 2>/dev/null; then
	echo "gen-fixtures: pydicom is missing: run scripts/install-peers.sh as root (python3-pydicom)" >&2
	exit 1
fi

src=$here/../../shared/testdata/dicom/transfer-syntax/explicit-vr-le/CT_small.dcm
[[ -f $src ]] || src=/usr/lib/python3/dist-packages/pydicom/data/test_files/CT_small.dcm
mkdir -p "$out"

gen() { # name frames
	local file=$out/$1.dcm
	if [[ $force == 0 && -s $file ]]; then
		return
	fi
	echo "gen-fixtures: writing $file ($2 frames)" >&2
	"$python" - "$src" "$file.tmp" "$2" <<'PY'
import random, sys
import pydicom
from pydicom.uid import ExplicitVRLittleEndian

src, dst, frames = sys.argv[1], sys.argv[2], int(sys.argv[3])
ds = pydicom.dcmread(src)
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.Rows, ds.Columns = 512, 512
ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
ds.SamplesPerPixel, ds.PixelRepresentation = 1, 1
if frames > 1:
    enhanced_ct = "1.2.840.10008.5.1.4.1.1.2.1"
    ds.SOPClassUID = enhanced_ct
    ds.file_meta.MediaStorageSOPClassUID = enhanced_ct
    ds.NumberOfFrames = frames
rng = random.Random(20261127)
ds.PixelData = b"".join(rng.randbytes(512 * 512 * 2) for _ in range(frames))
ds["PixelData"].VR = "OW"
ds.save_as(dst, write_like_original=False)
PY
	mv "$file.tmp" "$file"
}

gen ct512 1
gen multiframe 600
