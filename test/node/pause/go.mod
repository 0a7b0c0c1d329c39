module gatewaycluster.dev/test-node/pause

go 1.24
