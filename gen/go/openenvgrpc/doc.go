// Package openenvgrpc is the hand-written layer over the generated
// openenv.v1 code (package openenvv1): what every Go client of the contract
// would otherwise write for itself.
//
//   - Tensors: [NewTensor] and [DecodeTensor] move Go slices to and from
//     openenv.v1.Tensor (raw little-endian bytes, C order), for every Dtype.
//   - Values: [IntValue], [TensorValue], [ValueOf] and friends build the
//     openenv.v1.Value oneof without its wrapper types.
//   - Errors: [Error] is the contract's rich error (gRPC code, message,
//     ErrorInfo reason and metadata), read the same way from a failed unary
//     call and from a StepStream answer, so callers match reasons once.
//   - Connections: [NewClient] dials with the protocol version header, the
//     session-id routing header and unary errors turned into [Error];
//     [WithTLS] and [WithToken] for a server that serves TLS and checks tokens.
//   - Sessions: [Open] runs one session over one StepStream, the fast path,
//     and keeps its step_index and request ids for safe retries.
//
// The generated packages stay untouched by hand (scripts/gen.py rewrites
// them); this package only imports them.
package openenvgrpc
