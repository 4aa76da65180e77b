// Everything of the openenv-grpc C++ client: the generated messages and
// stub (openenv/v1/*.pb.h), the client, sessions, tensors and errors.
#ifndef OPENENV_GRPC_OPENENV_GRPC_H_
#define OPENENV_GRPC_OPENENV_GRPC_H_

#include "openenv/v1/env_service.grpc.pb.h"
#include "openenv/v1/env_service.pb.h"
#include "openenv/v1/errors.pb.h"
#include "openenv/v1/spaces.pb.h"
#include "openenv/v1/values.pb.h"
#include "openenv_grpc/call.h"
#include "openenv_grpc/client.h"
#include "openenv_grpc/connect.h"
#include "openenv_grpc/error.h"
#include "openenv_grpc/result.h"
#include "openenv_grpc/session.h"
#include "openenv_grpc/tensor.h"

#endif  // OPENENV_GRPC_OPENENV_GRPC_H_
