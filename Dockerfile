# syntax=docker/dockerfile:1
#
# docker build -t whatsapp_exporter \
#   --build-arg VERSION=$(git describe --tags --always) \
#   --build-arg REVISION=$(git rev-parse HEAD) \
#   --build-arg BRANCH=$(git rev-parse --abbrev-ref HEAD) .

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_DATE=unknown
# CGO off: a static binary that runs on an image without a C library.
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.Branch=${BRANCH} \
        -X github.com/prometheus/common/version.BuildUser=docker \
        -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
      -o /out/whatsapp_exporter .

# CA certificates and tzdata, a nonroot user (65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/whatsapp_exporter /bin/whatsapp_exporter
USER 65532:65532
EXPOSE 9919
ENTRYPOINT ["/bin/whatsapp_exporter"]
