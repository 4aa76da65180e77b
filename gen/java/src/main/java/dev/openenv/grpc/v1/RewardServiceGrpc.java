package dev.openenv.grpc.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * RewardService scores the steps of environment sessions.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class RewardServiceGrpc {

  private RewardServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "openenv.v1.RewardService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ScoreStepRequest,
      dev.openenv.grpc.v1.ScoreStepResponse> getScoreStepMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ScoreStep",
      requestType = dev.openenv.grpc.v1.ScoreStepRequest.class,
      responseType = dev.openenv.grpc.v1.ScoreStepResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ScoreStepRequest,
      dev.openenv.grpc.v1.ScoreStepResponse> getScoreStepMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ScoreStepRequest, dev.openenv.grpc.v1.ScoreStepResponse> getScoreStepMethod;
    if ((getScoreStepMethod = RewardServiceGrpc.getScoreStepMethod) == null) {
      synchronized (RewardServiceGrpc.class) {
        if ((getScoreStepMethod = RewardServiceGrpc.getScoreStepMethod) == null) {
          RewardServiceGrpc.getScoreStepMethod = getScoreStepMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.ScoreStepRequest, dev.openenv.grpc.v1.ScoreStepResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ScoreStep"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.ScoreStepRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.ScoreStepResponse.getDefaultInstance()))
              .setSchemaDescriptor(new RewardServiceMethodDescriptorSupplier("ScoreStep"))
              .build();
        }
      }
    }
    return getScoreStepMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static RewardServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<RewardServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<RewardServiceStub>() {
        @java.lang.Override
        public RewardServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new RewardServiceStub(channel, callOptions);
        }
      };
    return RewardServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static RewardServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<RewardServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<RewardServiceBlockingV2Stub>() {
        @java.lang.Override
        public RewardServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new RewardServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return RewardServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static RewardServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<RewardServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<RewardServiceBlockingStub>() {
        @java.lang.Override
        public RewardServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new RewardServiceBlockingStub(channel, callOptions);
        }
      };
    return RewardServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static RewardServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<RewardServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<RewardServiceFutureStub>() {
        @java.lang.Override
        public RewardServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new RewardServiceFutureStub(channel, callOptions);
        }
      };
    return RewardServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * RewardService scores the steps of environment sessions.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * ScoreStep scores one step. It should be free of side effects, as it
     * may be called again for the same step (a retried step).
     * </pre>
     */
    default void scoreStep(dev.openenv.grpc.v1.ScoreStepRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ScoreStepResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getScoreStepMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service RewardService.
   * <pre>
   * RewardService scores the steps of environment sessions.
   * </pre>
   */
  public static abstract class RewardServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return RewardServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service RewardService.
   * <pre>
   * RewardService scores the steps of environment sessions.
   * </pre>
   */
  public static final class RewardServiceStub
      extends io.grpc.stub.AbstractAsyncStub<RewardServiceStub> {
    private RewardServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected RewardServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new RewardServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * ScoreStep scores one step. It should be free of side effects, as it
     * may be called again for the same step (a retried step).
     * </pre>
     */
    public void scoreStep(dev.openenv.grpc.v1.ScoreStepRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ScoreStepResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getScoreStepMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service RewardService.
   * <pre>
   * RewardService scores the steps of environment sessions.
   * </pre>
   */
  public static final class RewardServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<RewardServiceBlockingV2Stub> {
    private RewardServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected RewardServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new RewardServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * ScoreStep scores one step. It should be free of side effects, as it
     * may be called again for the same step (a retried step).
     * </pre>
     */
    public dev.openenv.grpc.v1.ScoreStepResponse scoreStep(dev.openenv.grpc.v1.ScoreStepRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getScoreStepMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service RewardService.
   * <pre>
   * RewardService scores the steps of environment sessions.
   * </pre>
   */
  public static final class RewardServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<RewardServiceBlockingStub> {
    private RewardServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected RewardServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new RewardServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * ScoreStep scores one step. It should be free of side effects, as it
     * may be called again for the same step (a retried step).
     * </pre>
     */
    public dev.openenv.grpc.v1.ScoreStepResponse scoreStep(dev.openenv.grpc.v1.ScoreStepRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getScoreStepMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service RewardService.
   * <pre>
   * RewardService scores the steps of environment sessions.
   * </pre>
   */
  public static final class RewardServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<RewardServiceFutureStub> {
    private RewardServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected RewardServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new RewardServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * ScoreStep scores one step. It should be free of side effects, as it
     * may be called again for the same step (a retried step).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.ScoreStepResponse> scoreStep(
        dev.openenv.grpc.v1.ScoreStepRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getScoreStepMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_SCORE_STEP = 0;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_SCORE_STEP:
          serviceImpl.scoreStep((dev.openenv.grpc.v1.ScoreStepRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ScoreStepResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getScoreStepMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.ScoreStepRequest,
              dev.openenv.grpc.v1.ScoreStepResponse>(
                service, METHODID_SCORE_STEP)))
        .build();
  }

  private static abstract class RewardServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    RewardServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.openenv.grpc.v1.RewardsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("RewardService");
    }
  }

  private static final class RewardServiceFileDescriptorSupplier
      extends RewardServiceBaseDescriptorSupplier {
    RewardServiceFileDescriptorSupplier() {}
  }

  private static final class RewardServiceMethodDescriptorSupplier
      extends RewardServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    RewardServiceMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (RewardServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new RewardServiceFileDescriptorSupplier())
              .addMethod(getScoreStepMethod())
              .build();
        }
      }
    }
    return result;
  }
}
