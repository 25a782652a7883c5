#!/usr/bin/env bash
# Checks jgemma as a dependency, the way an application gets it: installs engine-core and engine-cpu (and the
# parent POM) into a private local repository, then builds tools/consumer (depends on just those two, as the
# README's snippet does) against it and runs it with the JVM flags the README names.
# The private repository never writes to ~/.m2: Maven 3.9's maven.repo.local.tail reads the third-party artifacts
# already in ~/.m2 (read-only) and anything new is downloaded into the private one.
# Usage: tools/consumer-check.sh [-o]   (-o: Maven offline)
set -euo pipefail
cd "$(dirname "$0")/.."
. .mvn/find-jdk.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mvn=(./mvnw -B -q "-Dmaven.repo.local=$work/repo" "-Dmaven.repo.local.tail=${MAVEN_REPO_TAIL:-$HOME/.m2/repository}" "$@")

"${mvn[@]}" install -pl engine-core,engine-cpu -am -DskipTests
"${mvn[@]}" -f tools/consumer/pom.xml clean package dependency:build-classpath "-Dmdep.outputFile=$work/cp.txt"

# the jars name their modules (Automatic-Module-Name)
for m in core:engine-core cpu:engine-cpu; do
  jar=$(ls "$work"/repo/org/jgemma/${m#*:}/*/${m#*:}-*.jar | grep -v -- -tests.jar | head -1)
  unzip -p "$jar" META-INF/MANIFEST.MF | tr -d '\r' | grep -qx "Automatic-Module-Name: org.jgemma.${m%%:*}" \
    || { echo "consumer-check: $jar has no Automatic-Module-Name org.jgemma.${m%%:*}" >&2; exit 1; }
done

# one Jackson version (major.minor: jackson-annotations is versioned 2.20 next to 2.20.0) in the class path
versions=$(tr ':' '\n' < "$work/cp.txt" | grep -o 'jackson-[a-z0-9-]*-[0-9][0-9.]*\.jar' \
  | sed 's/.*-\([0-9]*\.[0-9]*\)[0-9.]*\.jar/\1/' | sort -u)
[ "$(echo "$versions" | wc -l)" -eq 1 ] || { echo "consumer-check: several Jackson versions: $versions" >&2; exit 1; }

# an Ollama store with the tiny test model, for Model.resolve("consumer:tiny")
store="$work/store"
hex=$(printf 'consumer' | sha256sum | cut -c1-64)
mkdir -p "$store/blobs" "$store/manifests/registry.ollama.ai/library/consumer"
cp models/fixtures/tinygqa/gemma3-tinygqa-q4_k_m.gguf "$store/blobs/sha256-$hex"
printf '{"schemaVersion":2,"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:%s","size":1}]}' "$hex" \
  > "$store/manifests/registry.ollama.ai/library/consumer/tiny"

"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "tools/consumer/target/classes:$(cat "$work/cp.txt")" consumer.Main "$store"
