#!/usr/bin/env bash
# Writes guwenguanzhi.txt (into the folder given, else the current one): 古文观止, an
# anthology of Chinese prose from the Zhou to the Ming dynasty in its order, from the
# chinese-poetry npm package (MIT). A text in a script without spaces for
# `seqlab bench --quality FILE`; see the README's "Chinese prose".
set -euo pipefail
out="$(cd "${1:-.}" && pwd)/guwenguanzhi.txt"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent chinese-poetry@2.0.1 >/dev/null
tar xzf chinese-poetry-2.0.1.tgz package/dist/mengxue/guwenguanzhi.json
node -e '
const book = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const lines = [];
for (const volume of book.content) for (const piece of volume.content) lines.push(piece.chapter, "", ...piece.paragraphs.flatMap((p) => [p, ""]));
require("fs").writeFileSync(process.argv[2], lines.join("\n"));
' package/dist/mengxue/guwenguanzhi.json "$out"
echo "$out"
