#!/usr/bin/env bash
# Installs the pinned open-source Flyway command line (tools/flyway/pom.xml) from Maven Central
# into tools/flyway/dist, laid out the way Flyway's own launcher expects. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's:.*<flyway.version>\(.*\)</flyway.version>.*:\1:p' "$here/pom.xml")
dist="$here/dist"
stamp="$dist/.installed-$version"

# The fleet runner (runner/FleetRunner.java): Flyway's Java API for many databases in one JVM,
# compiled against the jars installed below. Rebuilt whenever its source changes.
build_runner() {
  local source="$here/runner/FleetRunner.java"
  local sum
  sum=$(sha256sum "$source" | cut -c1-16)
  if [ -f "$dist/runner/.built-$sum" ]; then return 0; fi
  rm -rf "$dist/runner"
  mkdir -p "$dist/runner"
  javac -nowarn -d "$dist/runner" -cp "$dist/lib/flyway/*" "$source"
  touch "$dist/runner/.built-$sum"
  echo "flyway fleet runner built in $dist/runner"
}

if [ -f "$stamp" ]; then
  echo "flyway $version already installed in $dist"
  build_runner
  exit 0
fi
command -v mvn >/dev/null || { echo "error: Maven (mvn) is needed to install Flyway" >&2; exit 1; }
command -v java >/dev/null || { echo "error: Java 17+ is needed to run Flyway" >&2; exit 1; }
tmp="$dist.tmp"
rm -rf "$tmp"
mkdir -p "$tmp/lib/flyway" "$tmp/drivers" "$tmp/conf"
echo "installing flyway $version from Maven Central into $dist"
mvn -B -q -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$tmp/lib/flyway"
# Flyway looks for drivers/ and conf/ three levels above the jar that holds Main.
mv "$tmp/lib/flyway/postgresql-"*.jar "$tmp/drivers/"
rm -rf "$dist"
mv "$tmp" "$dist"
touch "$stamp"
build_runner
"$here/flyway" -v | head -n 3
