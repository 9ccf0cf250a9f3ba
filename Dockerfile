# syntax=docker/dockerfile:1

# The invoicing binary: static (CGO_ENABLED=0), so the runtime image needs no
# libc. The builder tag matches go.mod's go line exactly, so the toolchain is
# never downloaded at build time.
FROM --platform=$BUILDPLATFORM golang:1.26.8-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# Modules first, in their own layer: source edits do not re-download them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/invoicing ./cmd/invoicing

# No shell, package manager or libc, and uid 65532 (nonroot). Migrations and
# the OpenAPI document are embedded in the binary, so it is the only file.
# No HEALTHCHECK: there is no shell or HTTP client to run one; the
# orchestrator probes GET /healthz (liveness) and GET /readyz (readiness).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/invoicing /usr/local/bin/invoicing
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/invoicing"]
CMD ["serve"]
