# Sourced (POSIX sh) by .ci/run and the Makefile: makes `python3.13` runnable, as Lambda's runtime and
# sam build need it. On machines with pyenv, python3.13's shim exists even when no 3.13 is selected
# (so only running it tells); then the newest 3.13 pyenv has is added after the selected version.
if ! python3.13 --version >/dev/null 2>&1 && command -v pyenv >/dev/null 2>&1; then
  _pyenv_313=$(pyenv versions --bare | grep -E '^3\.13\.[0-9]+$' | sort -t. -k3,3n | tail -n 1)
  if [ -n "$_pyenv_313" ]; then
    PYENV_VERSION="$(pyenv version-name):$_pyenv_313"
    export PYENV_VERSION
  fi
  unset _pyenv_313
fi
