# Sourced by ./mvnw and bin/jgemma: make JAVA_HOME point at a JDK 25 or newer.
# Order: $JAVA_HOME if it is 25+, then /usr/lib/jvm/* and /opt/java/*, then `java` on PATH.
# Fails at once, saying what to install, rather than building with an older Java.
jg_java_major() {
  # prints the feature version of the java binary $1 (e.g. 25), or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
jg_ok() { [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] && v=$(jg_java_major "$1/bin/java") && [ -n "$v" ] && [ "$v" -ge 25 ]; }
jg_find_jdk() {
  if [ -n "${JAVA_HOME-}" ] && jg_ok "$JAVA_HOME"; then return 0; fi
  jg_saved_opts=$-; set +f
  for d in /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/* /opt/java/* "$HOME"/.jdks/*; do
    if jg_ok "$d"; then JAVA_HOME=$d; export JAVA_HOME; case $jg_saved_opts in *f*) set -f ;; esac; return 0; fi
  done
  case $jg_saved_opts in *f*) set -f ;; esac
  if command -v javac >/dev/null 2>&1; then
    d=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    if jg_ok "$d"; then JAVA_HOME=$d; export JAVA_HOME; return 0; fi
  fi
  echo "error: jgemma needs a JDK 25 or newer (found none in \$JAVA_HOME, /usr/lib/jvm, /opt/java or on PATH)." >&2
  echo "       Install one (e.g. Temurin 25: apt install temurin-25-jdk) or set JAVA_HOME to it." >&2
  return 1
}
jg_find_jdk || exit 1
