// Package adapterv1 is the generated code of protocol 1 of the adapter plugin
// protocol, and the conversions between its messages and the patchcore
// types. It is internal: adapter authors implement adapters.Adapter.
//
// The generated files are committed. To regenerate after editing
// adapter.proto (protoc from Debian's protobuf-compiler, 3.21):
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
//	go generate ./internal/adapterproto/...
package adapterv1

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative adapter.proto
