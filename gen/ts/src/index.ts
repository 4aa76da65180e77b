// @openenv-grpc/client: the openenv.v1 contract for TypeScript on Node.
//
// The generated code (src/gen/, written by `make gen` from proto/, never by
// hand) is re-exported whole: message types and their schemas, enums and
// the EnvService descriptor, as protoc-gen-es v2 writes them. google.rpc's
// Code and Status are exported as RpcCode and RpcStatus (and their schemas
// under the same prefix), since Connect's own `Code` is the one callers
// compare `error.code` with. Beside them, the hand-written helpers:
// connecting (client.ts; TLS and tokens in auth.ts), tensors (tensors.ts), values (values.ts), errors
// (errors.ts) and the StepStream session (session.ts).

export * from "./gen/openenv/v1/values_pb.js";
export * from "./gen/openenv/v1/spaces_pb.js";
export * from "./gen/openenv/v1/errors_pb.js";
export * from "./gen/openenv/v1/env_service_pb.js";
export * from "./gen/openenv/v1/frames_pb.js";
export * from "./gen/google/rpc/error_details_pb.js";
export {
  Code as RpcCode,
  CodeSchema as RpcCodeSchema,
  file_google_rpc_code,
} from "./gen/google/rpc/code_pb.js";
export {
  type Status as RpcStatus,
  StatusSchema as RpcStatusSchema,
  file_google_rpc_status,
} from "./gen/google/rpc/status_pb.js";

// Connect's Code: what OpenEnvError.code and ConnectError.code hold.
export { Code } from "@connectrpc/connect";

export * from "./auth.js";
export * from "./client.js";
export * from "./errors.js";
export * from "./session.js";
export * from "./tensors.js";
export * from "./values.js";
