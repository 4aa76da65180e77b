/**
 * The Java client of the OpenEnv environment protocol (openenv.v1) over gRPC.
 *
 * <p>The messages and stubs are generated from {@code proto/openenv/v1} into {@code
 * dev.openenv.grpc.v1} (never edited by hand). This package is the thin layer above them that every
 * client needs: {@link dev.openenv.grpc.EnvClient} (unary calls with the protocol headers), {@link
 * dev.openenv.grpc.StepSession} (one session over one StepStream, numbering its steps), {@link
 * dev.openenv.grpc.OpenEnvException} (a failure's code, reason and metadata, from a unary trailer
 * or an in-band stream answer alike), {@link dev.openenv.grpc.Tensors} and {@link
 * dev.openenv.grpc.Values} (wire values to and from Java arrays and objects).
 */
package dev.openenv.grpc;
