#!/usr/bin/env bash
# TeX Live set-up for the LaTeX worker (idempotent; run by `make system-deps` and by the image build).
#
# 1. TEX_PROFILE=full installs the larger TeX installation for real-world documents
#    (the Debian packages in scripts/tex-packages-full.txt: IEEEtran, biblatex + biber,
#    algorithmicx, tracklang...). TEX_PROFILE=base (the default) installs nothing more.
# 2. Builds, once, what lualatex writes on its first run into TeX Live's system variable tree
#    (TEXMFSYSVAR/luatex-cache): luaotfload's font-name database and the Latin Modern font
#    caches. The worker runs lualatex in bubblewrap with that tree read-only, so without them
#    every sandboxed lualatex run (and the worker's font-cache warm-up) rebuilds the database
#    in its own directory, and latexmk reruns the engine because those files changed.
#    A stamp (the TeX packages' versions) makes a second run a no-op until TeX Live changes.
#
#   scripts/setup-tex.sh                  # base profile
#   TEX_PROFILE=full scripts/setup-tex.sh # + the larger installation
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
profile="${TEX_PROFILE:-base}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

case "$profile" in
  base) ;;
  full)
    missing=()
    while read -r pkg; do
      [ -n "$pkg" ] || continue
      dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$pkg")
    done < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$here/tex-packages-full.txt")
    if [ "${#missing[@]}" -gt 0 ]; then
      echo "installing the full TeX profile: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
      fi
    fi
    ;;
  *) echo "TEX_PROFILE must be base or full (got '$profile')" >&2; exit 2 ;;
esac

command -v lualatex >/dev/null 2>&1 && command -v luaotfload-tool >/dev/null 2>&1 || exit 0
sysvar="$(kpsewhich -var-value TEXMFSYSVAR)"
cache="$sysvar/luatex-cache"
stamp="$cache/enginedge-setup.stamp"
fingerprint="$( { dpkg-query -W -f='${Package}=${Version}\n' 'texlive-*' 'tex-*' 'fonts-lmodern' \
  2>/dev/null || true; } | sort | sha256sum | cut -c1-32)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ] \
   && [ -n "$(ls "$cache"/generic/names/luaotfload-names.lu* 2>/dev/null)" ]; then
  exit 0
fi
echo "building lualatex's font caches in $cache"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/warm.tex" <<'TEX'
\documentclass{article}
\begin{document}
Roman \textbf{bold \textit{bold italic}} \textit{italic} \textsl{slanted} \textsc{Small Caps}
\textsf{sans \textbf{bold}} \texttt{mono} $x^2 + \sum_{i=1}^n \alpha_i$ \& ``quotes''
\end{document}
TEX
chmod -R a+rX "$tmp"
# TEXMFCACHE pins the writes to the system tree (root's default is its first writable entry).
(
  cd "$tmp"
  $SUDO env TEXMFCACHE="$sysvar" luaotfload-tool --update --force >/dev/null
  for _ in 1 2; do  # the second run finds every cache and writes nothing
    $SUDO env TEXMFCACHE="$sysvar" lualatex -no-shell-escape -interaction=nonstopmode \
      -halt-on-error warm.tex >/dev/null
  done
)
$SUDO chmod -R a+rX "$cache"
echo "$fingerprint" | $SUDO tee "$stamp" >/dev/null
