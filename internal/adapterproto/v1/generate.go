// Package adapterv1 is the generated code of protocol 1 of the adapter plugin
// protocol, and the conversions between its messages and the patchcore
// types. It is internal: adapter authors implement adapters.Adapter.
package adapterv1

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative adapter.proto
