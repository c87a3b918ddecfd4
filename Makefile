# Conveniences over scripts/: each target sets up what is missing first.
.PHONY: demo test fuzz bench format vectors

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

fuzz:
	bash scripts/fuzz.sh $(or $(SECONDS),300)

bench:
	bash Benchmarks/verify.sh

format:
	swift format --in-place --recursive Package.swift Sources Tests Benchmarks

vectors:
	python3 tools/reference/make_vectors.py
