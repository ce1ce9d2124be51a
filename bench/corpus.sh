#!/usr/bin/env bash
# bench/corpus.sh [--quick] DIR - make the benchmark corpus in DIR.
#
#   DIR/video.mp4   1 GiB of incompressible bytes (AES-CTR keystream)
#   DIR/text/       ~200 MB of text-like testimonies in ~2,000 files
#                   (median 57 KB; a few transcripts above 1 MiB)
#   DIR/small/      10,000 small files of 1-8 KB (half short text notes,
#                   half random bytes like thumbnails)
#
# --quick: 256 MiB video, ~50 MB of text in ~500 files, 2,000 small files.
#
# Everything is generated from fixed seeds, so two runs (and two machines)
# measure the same bytes.  A corpus already complete in DIR is kept.
set -euo pipefail

quick=0
if [ "${1:-}" = "--quick" ]; then
    quick=1
    shift
fi
if [ $# -ne 1 ] || [ "${1:0:1}" = "-" ]; then
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
dir=$1

if [ $quick -eq 1 ]; then
    video_mib=256 text_bytes=50000000 text_files=500 small_files=2000
else
    video_mib=1024 text_bytes=200000000 text_files=2000 small_files=10000
fi
stamp="corpus v2: video ${video_mib} MiB, text ${text_bytes} B in ${text_files} files, ${small_files} small files"

if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$stamp" ]; then
    exit 0
fi
for t in openssl python3; do
    command -v "$t" >/dev/null || { echo "corpus.sh: needs $t" >&2; exit 3; }
done
rm -rf "$dir"
mkdir -p "$dir"
echo "making the corpus in $dir ($stamp)" >&2

# The video: AES-128-CTR keystream from a fixed key; indistinguishable from
# random, so no compressor gains anything.
head -c $((video_mib << 20)) /dev/zero |
    openssl enc -aes-128-ctr -nosalt -K 6576617566742d62656e63682d766964 \
        -iv 00000000000000000000000000000000 -out "$dir/video.mp4"

# Text and small files: Zipf-distributed English-like words in sentences and
# paragraphs, with names, places, dates and times; about what zstd makes of
# real prose (ratio near 3).  Two processes, one per core.
python3 - "$dir" "$text_bytes" "$text_files" "$small_files" <<'PY'
import math, os, random, sys
from multiprocessing import Pool

root, text_bytes, text_files, small_files = sys.argv[1], *map(int, sys.argv[2:])

COMMON = """the of and to a in was he that it his i they with for on at
were my we had by from not but him me there them our when this all one
what be are have who said then after us into their her would no as an so
or out up some two could did been about only asked told came took went
saw three men man police officers station night morning day brother
father mother son wife sister family house door car street market court
judge lawyer prison cell detention arrested beaten hit taken questioned
interrogation charges sign statement paper name phone passport money
again never because before where how while until until later next home
left right hands head eyes room floor wall window years months days hours
time first last other another nobody someone everything nothing afraid
released called returned said demanded threatened refused remember know
think believe heard seen shouted kept brought gave went did not could""".split()

def pseudo_words(rng, n):
    cons = "b c d f g h j k l m n p r s t v z sh ch kh zh".split()
    vows = "a e i o u y ai ya yu".split()
    out = set()
    while len(out) < n:
        w = "".join(rng.choice(cons) + rng.choice(vows)
                    for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        if rng.random() < 0.3:
            w += rng.choice(("ov", "ev", "in", "bek", "zhan", "iy", "stan"))
        out.add(w)
    return sorted(out)

rng0 = random.Random(20240301)
VOCAB = COMMON + pseudo_words(rng0, 6000)
CUM = []
acc = 0.0
for r in range(len(VOCAB)):
    acc += 1.0 / (r + 2.7) ** 1.07
    CUM.append(acc)
NAMES = [w.capitalize() for w in pseudo_words(rng0, 400)]
PLACES = [w.capitalize() for w in pseudo_words(rng0, 150)]

def prose(rng, nbytes):
    parts, size = [], 0
    while size < nbytes:
        para = []
        for _ in range(rng.randint(2, 8)):
            words = rng.choices(VOCAB, cum_weights=CUM, k=rng.randint(6, 28))
            r = rng.random()
            if r < 0.12:
                words.insert(rng.randrange(len(words)), rng.choice(NAMES))
            elif r < 0.18:
                words.insert(rng.randrange(len(words)), "in " + rng.choice(PLACES))
            elif r < 0.23:
                words.append("at %02d:%02d" % (rng.randrange(24), rng.randrange(60)))
            elif r < 0.26:
                words.append("on %d %s" % (rng.randint(1, 28), rng.choice(
                    ("January", "March", "May", "July", "October", "December"))))
            s = " ".join(words)
            para.append(s[0].upper() + s[1:] + rng.choice(".....?!"))
        p = " ".join(para) + "\n\n"
        parts.append(p)
        size += len(p)
    return "".join(parts)[:nbytes]

def text_file(i):
    rng = random.Random(1000003 * i + 7)
    size = int(SIZES[i])
    head = ("Statement of witness W-%04d, case K-%02d, recorded %d-%02d-%02d "
            "in %s.\nInterviewer: %s.  Language: %s.\n\n" % (
                rng.randrange(10000), i % 40, rng.randint(2016, 2024),
                rng.randint(1, 12), rng.randint(1, 28), rng.choice(PLACES),
                rng.choice(NAMES), rng.choice(("ru", "uz", "tg", "kk", "en"))))
    d = os.path.join(root, "text", "case-%02d" % (i % 40))
    with open(os.path.join(d, "testimony-%05d.txt" % i), "w") as f:
        f.write(head + prose(rng, max(0, size - len(head))))

def small_file(i):
    rng = random.Random(7000003 * i + 11)
    size = rng.randint(1024, 8192)
    d = os.path.join(root, "small", "batch-%03d" % (i // 100))
    if i % 2:
        data = rng.randbytes(size)
        name = "thumb-%05d.jpg" % i
    else:
        data = prose(rng, size).encode()
        name = "note-%05d.txt" % i
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# File sizes: log-normal around the mean, scaled to the total.
rs = random.Random(4242)
mean = text_bytes / text_files
raw = [rs.lognormvariate(math.log(mean) - 0.605, 1.1) for _ in range(text_files)]
scale = text_bytes / sum(raw)
SIZES = [max(2000, min(8 << 20, x * scale)) for x in raw]

for c in range(40):
    os.makedirs(os.path.join(root, "text", "case-%02d" % c), exist_ok=True)
for b in range((small_files + 99) // 100):
    os.makedirs(os.path.join(root, "small", "batch-%03d" % b), exist_ok=True)
with Pool(2) as pool:
    pool.map(text_file, range(text_files), chunksize=16)
    pool.map(small_file, range(small_files), chunksize=200)
PY

echo "$stamp" > "$dir/.complete"
