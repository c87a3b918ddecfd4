# The project's build flags, as swift-nio's CI sets its own: a module may import only what its target
# declares, and a warning fails the build. Sourced by scripts/setup.sh (the tests' build) and
# scripts/demo.sh, so both build the same way and share one build folder.
# shellcheck disable=SC2034
build_flags=(--explicit-target-dependency-import-check error -Xswiftc -warnings-as-errors)
