# GatewayCluster: one image for every role, chosen by the first argument:
#   operator | register | gateway | worker | api | local      (e.g. `docker run IMAGE gateway --help`)
# The bundled handlers (chat, echo) are inside. Your own handler: build FROM this image and COPY it in, e.g.
#   FROM ghcr.io/gatewaycluster/gateway-cluster:0.1.0
#   COPY my-handler.mjs /app/handlers/my-handler.mjs
# then set spec.worker.handler.module: /app/handlers/my-handler.mjs; or keep it in a ConfigMap
# (spec.worker.handler.configMap), no image build needed.
#
# Both bases must have node on PATH; the build base also npm and sh. The tests build with locally made bases
# (test/image/make-base-images.sh): --build-arg BUILD_IMAGE=... --build-arg BASE_IMAGE=...
ARG BUILD_IMAGE=docker.io/library/node:26-bookworm-slim
ARG BASE_IMAGE=docker.io/library/node:26-bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY runtime runtime
COPY operator operator
# tsconfig.json also covers test/, which is not copied: only the runtime and the operator are compiled.
RUN node node_modules/typescript/bin/tsc -p tsconfig.json && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${BASE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Read at run time next to package.json: the wire format and the chat page.
COPY runtime/proto ./runtime/proto
COPY runtime/web ./runtime/web
USER 65532:65532
EXPOSE 1236 2900 7272 7280 8080 9236 9272 9280 9300
ENTRYPOINT ["node", "dist/runtime/cli.js"]
CMD ["--help"]
