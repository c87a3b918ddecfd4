# Conveniences over scripts/: each target sets up what is missing first.
.PHONY: demo test deb fuzz bench bench-scan bench-still bench-daemon bench-cloud bench-forwarding bench-faults bench-web bench-his release install format vectors

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

# The Debian packages vhc-station and vhc-cloud in dist/ (docs/packaging.md).
deb:
	bash scripts/package-deb.sh

fuzz:
	bash scripts/fuzz.sh $(or $(SECONDS),300)

bench:
	bash Benchmarks/verify.sh

bench-scan:
	bash Benchmarks/scan.sh

bench-still:
	bash Benchmarks/still.sh

bench-daemon:
	bash Benchmarks/daemon.sh

bench-cloud:
	bash Benchmarks/cloud.sh

bench-forwarding:
	bash Benchmarks/forwarding.sh

bench-faults:
	bash Benchmarks/daemon-faults.sh

bench-web:
	bash Benchmarks/web.sh

bench-his:
	bash Benchmarks/his.sh

# The binaries as installed: the Swift runtime linked in, so the station needs no Swift toolchain.
release:
	for product in vhc vhc-stationd; do \
		swift build -c release --static-swift-stdlib --scratch-path .build-static --product $$product; done

# As root, after `make release` as the builder (systemd/README.md).
install:
	bash scripts/install.sh --bin-dir "$(CURDIR)/.build-static/release"

format:
	swift format --in-place --recursive Package.swift Sources Tests Benchmarks

vectors:
	python3 tools/reference/make_vectors.py
