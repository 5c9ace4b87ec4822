# syntax=docker/dockerfile:1
# tracebridge: one image, two binaries.
#   docker build -t ghcr.io/example/tracebridge:0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/example/tracebridge:0.1.0 --push .
# Entrypoint: the sidecar (what the injector injects, with no args). The injector runs the other
# binary through a command override: command: [node, /app/dist/injector/main.js] (see
# mesh-configs/kubernetes/deployment.yaml).
#
# Compiled, not run from source: Node 24 can strip TypeScript types itself (that is how npm start
# and the tests run), but loading the stripper costs ~17 MiB RSS at start and ~30 MiB idle with the
# whole sidecar loaded (measured: 115 MiB vs 85 MiB idle RSS), in every injected pod. The build
# stage runs `tsc -p tsconfig.build.json`, which only erases types (erasableSyntaxOnly) and
# rewrites `.ts` import specifiers to `.js`: the image runs the same code the tests ran.
#
# Bundled: the sidecar runs dist/sidecar-image/main.js, esbuild's bundle of the same sources
# (sidecar/runtime/bundle.ts), not tsc's ~150 separate modules: most of the sidecar's own start-up
# went to Node's ESM loader (resolving each import, package.json reads, module records). Own code
# only, not minified, no source maps; packages stay external (from /app/node_modules) except yaml,
# which a pod with a mounted config loads at start: the bundle carries it as one file
# (dist/sidecar-image/node_modules/yaml/, with its LICENSE; 10-12 against 29-45 ms to load). The
# sidecar is two files, main.js and cli.js, plus worker.js for the header bridge's worker thread:
# each import() of a component is an initializer inside cli.js, so a component's code still runs
# only when configured and its dependencies still load only then (the embedded default loaded 38
# files before; 9-14 ms less to healthy, bundle.ts has the figures). Measured against tsc's output
# on this project's 2-core VM, 2026-12-04, image flags, compile cache, embedded default, `npm run
# bench -- --only=idle` (9 starts, RSS 10 s after healthy): idle private memory (RssAnon+RssShmem)
# 19.1 -> 17.8 MiB, idle RSS 68.0 -> 66.7 MiB (all receivers: 24.5 -> 23.3, 75.1 -> 73.9); CPU to
# healthy (user+sys, median of 21 starts interleaved with tsc's) 310 -> 270 ms, wall clock 549 ->
# 472 ms. Wall-clock cold starts were noisy (other work on the VM, load average 3-5): the harness's
# own medians ranged 412-777 ms for either form. Bundling pino too (then the only eager dependency;
# since replaced by the sidecar's own logger) changed neither figure. With every file ASCII
# (bundle.ts says why), the logger and the gRPC client of the second pass, quiet VM: 64.5 MiB idle
# RSS, 16.3 private, 221 ms to healthy; with node's built-ins taken through process.getBuiltinModule
# instead of ES imports (bundle.ts says why): 63.6-63.7 MiB RSS, 15.9-16.1 private (bench/README.md,
# README Performance).
# The injector (command override) runs tsc's dist/injector/main.js.
#
# Base: Debian 12 slim with Node 24, multi-arch (amd64, arm64), pinned by tag. For reproducible
# release builds pin the digest too, e.g. node:24-bookworm-slim@sha256:<digest>, from
# `docker buildx imagetools inspect node:24-bookworm-slim`, and let a bot (Renovate, Dependabot)
# bump it.

# Compile. Types are erased the same way on every platform, so this runs on the build machine.
FROM --platform=$BUILDPLATFORM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# All dependencies (TypeScript is a devDependency); --ignore-scripts keeps the `node` devDependency
# from fetching its own runtime: the base image's Node 24 compiles.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY sidecar ./sidecar
COPY injector ./injector
# tsc: dist/ (the injector). The bundle: dist/sidecar-image/ (the sidecar), plain JavaScript, so
# bundling on the build machine serves every target platform. esbuild's JS API finds its binary in
# the optional package for the build machine's platform (@esbuild/linux-x64, @esbuild/linux-arm64,
# ...), which npm ci installs without running esbuild's postinstall (it only checks that binary).
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json \
    && node sidecar/runtime/bundle.ts

# Dependencies. Every production dependency is plain JavaScript (a test checks: no native
# addons), so this stage runs on the build machine's own platform and its node_modules serve
# every target platform: no emulation in multi-arch builds.
FROM --platform=$BUILDPLATFORM node:24-bookworm-slim AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Exactly the lockfile, production only (the devDependency `node` and the test tools stay out).
# --ignore-scripts: no dependency's install script runs (no production dependency has one; the
# nested protobufjs of grpc-js, which had one, is a devDependency's since the otlp exporter left
# grpc-js).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force

FROM node:24-bookworm-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="tracebridge" \
      org.opencontainers.image.description="Per-pod telemetry sidecar for service meshes (OTLP, Zipkin, X-Ray in; W3C/B3/X-Ray trace context bridged; OTLP and X-Ray out) and the admission webhook that injects it" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/example/tracebridge" \
      org.opencontainers.image.vendor="tracebridge"
ENV NODE_ENV=production
WORKDIR /app
# npm and corepack are not needed at run time: fewer files, fewer CVE reports to triage.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
# Owned by root and read-only to the runtime user: the process never writes to its filesystem
# (logs go to stdout/stderr; the compile cache below is only read), so readOnlyRootFilesystem:
# true holds.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
# Node's compile cache: the V8 code cache of every module the sidecar loads, so a pod's start skips
# parsing and compiling them (measured: ~10-15% less CPU to healthy). The image runs with
# readOnlyRootFilesystem, so it is written here and only read at run time. Node keys the cache
# by the user ID (a subdirectory per UID), so it is made as the runtime user 65532, into a
# directory that is then handed back to root and made read-only; Node reads it, and silently skips
# persisting what it did not find there (a mounted config's YAML parser). A pod run under another
# UID (a platform that assigns UIDs) compiles as before. The warm-up starts the sidecar as pods do
# (embedded default, each exporter it can pick), waits for its health check and stops it: a
# sidecar that cannot start fails the build. The first start writes the cache of main.js and of
# cli.js, the whole sidecar; the others find it and write nothing (what the cache holds is each
# file's top-level code, the same whichever config ran), so they check that the sidecar starts with
# each exporter. Same V8 flags as the ENTRYPOINT; the bundle's own warm-up, which starts the
# bundle's main.js next to it (the cache is keyed by file).
ENV NODE_COMPILE_CACHE=/app/compile-cache
RUN mkdir "$NODE_COMPILE_CACHE" && chown 65532:65532 "$NODE_COMPILE_CACHE" \
    && setpriv --reuid=65532 --regid=65532 --clear-groups \
       node --max-semi-space-size=1 --initial-old-space-size=32 --preserve-symlinks --preserve-symlinks-main --no-regexp-tier-up /app/dist/sidecar-image/runtime/warm-compile-cache.js \
    && chown -R root:root "$NODE_COMPILE_CACHE" && chmod -R a-w,a+rX "$NODE_COMPILE_CACHE"
# Numeric, non-root (runAsNonRoot can verify a number, not a name); no home directory needed.
USER 65532:65532
# Sidecar: OTLP gRPC/HTTP, Zipkin, X-Ray daemon (UDP segments, TCP sampling), health, metrics.
# Injector: the webhook (HTTPS). Receivers bind 127.0.0.1 inside the pod; EXPOSE only documents.
EXPOSE 4317/tcp 4318/tcp 9411/tcp 2000/udp 2000/tcp 13133/tcp 8888/tcp 8443/tcp
# Exec form, so node is PID 1 and receives SIGTERM itself: both binaries drain and exit on it.
# The sidecar caps its V8 heap at half the container's memory limit (cgroup v2 memory.max or v1
# memory.limit_in_bytes): main.js re-executes itself in place (process.execve, same PID) with
# --max-old-space-size before loading anything else, ~60 ms once at start. Without it V8 sizes the
# heap at no less than ~256 MiB, above the injected limit. An explicit --max-old-space-size in
# NODE_OPTIONS wins (then nothing is re-executed): the injector sets it from the limit it injects,
# so injected pods skip the re-execution; it remains the fallback for limits set any other way.
# --max-semi-space-size=1 (MiB): V8's young generation grows to 8 MiB per semi-space by default,
# and start-up alone grows it; capped at 1 MiB. Measured on the compiled sidecar (2-core VM, median
# of 5 runs, embedded default): idle private memory (RssAnon) 25.4 -> 22.1 MiB, idle RSS 76.7 ->
# 73.5 MiB; at 20k spans/s of OTLP/gRPC, RSS 205 -> 155 MiB, for ~7% more CPU per span (more
# frequent scavenges; median of 3). Flags measured and not taken: --v8-pool-size=1 (-1 MiB idle,
# but GC helpers lost: >15% more CPU under load), --single-threaded-gc, --max-lazy, --stack-size,
# UV_THREADPOOL_SIZE=1 (no idle change), --max-old-space-size (main.js sets it from the
# container limit), --external-memory-accounted-in-global-limit (at 10k realistic spans/s 4
# mark-compacts instead of 11 in 15 s, but RSS 127-132 instead of 100-102 MiB: those
# mark-compacts free the buffers of received requests and batches).
# --initial-old-space-size=32 (MiB): V8 starts the old generation's limit at ~16 MiB and, at 10k
# realistic spans/s, ran 1.4 full mark-compacts a second to stay under it. Starting at 32 MiB
# halves them: back to back, 17.9 -> 14.6 CPU-s per million spans, GC 24 -> 16 ms per second, RSS
# at 10k spans/s unchanged (~128 MiB) and idle RSS unchanged (80 MiB). 64 MiB cut GC further but
# added ~19 MiB RSS under load; larger semi-spaces added RSS without a CPU gain beyond the noise.
# --preserve-symlinks, --preserve-symlinks-main: Node's ES module loader otherwise calls realpath
# on every file it loads, to resolve symlinks; nothing the sidecar loads is a symlink (npm ci makes
# links only in node_modules/.bin), so the answer is always the path itself.
# --no-regexp-tier-up: V8 first runs a regular expression in its interpreter and compiles it to
# machine code on the second run. Every server.listen(port, host) tests the host against node's
# IPv6 expression, whose interpreter form takes ~7 ms to build here and its machine code ~2 ms
# more on the second listen; compiled once to machine code it takes ~3 ms. Other expressions are
# small.
# Each of the two flags above, like most V8 flags (on Node 24 memory-tuning flags such as the heap
# size limits are the exception), makes node reject the code cache its binary carries for its own
# built-in modules: V8 checks a hash of its flags (NODE_DEBUG_NATIVE=CODE_CACHE prints "rejected").
# Node then compiles each built-in module it loads after start-up from source: in a start's CPU
# profile, 24-27 ms of compiling against 10-12 ms without them. Kept, measured on 2026-12-05:
# without --initial-old-space-size, 28-29 mark-compacts instead of 11 in 15 s at 10k realistic
# spans/s (~150 ms more GC), with or without a --max-old-space-size. A start with neither flag
# measured 185 against 191 ms (median of 21 interleaved), within the noise; dropping only one would
# not bring the cache back.
# Together with the code every start loads put in one chunk (the bundle of 2026-12-04; one file
# since 2026-12-05, sidecar/runtime/bundle.ts), measured interleaved, 25 starts each, spawn to health 200 on one core (2-core VM, 2026-12-04): median
# 199 -> 174 ms; a bare Node HTTP server answering the same health check takes 116 ms.
ENTRYPOINT ["node", "--max-semi-space-size=1", "--initial-old-space-size=32", "--preserve-symlinks", "--preserve-symlinks-main", "--no-regexp-tier-up", "/app/dist/sidecar-image/main.js"]
