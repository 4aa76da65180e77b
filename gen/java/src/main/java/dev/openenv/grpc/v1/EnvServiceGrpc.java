package dev.openenv.grpc.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * EnvService serves one kind of environment, many sessions at once.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class EnvServiceGrpc {

  private EnvServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "openenv.v1.EnvService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.DescribeRequest,
      dev.openenv.grpc.v1.DescribeResponse> getDescribeMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Describe",
      requestType = dev.openenv.grpc.v1.DescribeRequest.class,
      responseType = dev.openenv.grpc.v1.DescribeResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.DescribeRequest,
      dev.openenv.grpc.v1.DescribeResponse> getDescribeMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.DescribeRequest, dev.openenv.grpc.v1.DescribeResponse> getDescribeMethod;
    if ((getDescribeMethod = EnvServiceGrpc.getDescribeMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getDescribeMethod = EnvServiceGrpc.getDescribeMethod) == null) {
          EnvServiceGrpc.getDescribeMethod = getDescribeMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.DescribeRequest, dev.openenv.grpc.v1.DescribeResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Describe"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.DescribeRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.DescribeResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("Describe"))
              .build();
        }
      }
    }
    return getDescribeMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ResetRequest,
      dev.openenv.grpc.v1.ResetResponse> getResetMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Reset",
      requestType = dev.openenv.grpc.v1.ResetRequest.class,
      responseType = dev.openenv.grpc.v1.ResetResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ResetRequest,
      dev.openenv.grpc.v1.ResetResponse> getResetMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ResetRequest, dev.openenv.grpc.v1.ResetResponse> getResetMethod;
    if ((getResetMethod = EnvServiceGrpc.getResetMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getResetMethod = EnvServiceGrpc.getResetMethod) == null) {
          EnvServiceGrpc.getResetMethod = getResetMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.ResetRequest, dev.openenv.grpc.v1.ResetResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Reset"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.ResetRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.ResetResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("Reset"))
              .build();
        }
      }
    }
    return getResetMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StepRequest,
      dev.openenv.grpc.v1.StepResponse> getStepMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Step",
      requestType = dev.openenv.grpc.v1.StepRequest.class,
      responseType = dev.openenv.grpc.v1.StepResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StepRequest,
      dev.openenv.grpc.v1.StepResponse> getStepMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StepRequest, dev.openenv.grpc.v1.StepResponse> getStepMethod;
    if ((getStepMethod = EnvServiceGrpc.getStepMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getStepMethod = EnvServiceGrpc.getStepMethod) == null) {
          EnvServiceGrpc.getStepMethod = getStepMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.StepRequest, dev.openenv.grpc.v1.StepResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Step"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.StepRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.StepResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("Step"))
              .build();
        }
      }
    }
    return getStepMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ResetBatchRequest,
      dev.openenv.grpc.v1.ResetBatchResponse> getResetBatchMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ResetBatch",
      requestType = dev.openenv.grpc.v1.ResetBatchRequest.class,
      responseType = dev.openenv.grpc.v1.ResetBatchResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ResetBatchRequest,
      dev.openenv.grpc.v1.ResetBatchResponse> getResetBatchMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ResetBatchRequest, dev.openenv.grpc.v1.ResetBatchResponse> getResetBatchMethod;
    if ((getResetBatchMethod = EnvServiceGrpc.getResetBatchMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getResetBatchMethod = EnvServiceGrpc.getResetBatchMethod) == null) {
          EnvServiceGrpc.getResetBatchMethod = getResetBatchMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.ResetBatchRequest, dev.openenv.grpc.v1.ResetBatchResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ResetBatch"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.ResetBatchRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.ResetBatchResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("ResetBatch"))
              .build();
        }
      }
    }
    return getResetBatchMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StepBatchRequest,
      dev.openenv.grpc.v1.StepBatchResponse> getStepBatchMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StepBatch",
      requestType = dev.openenv.grpc.v1.StepBatchRequest.class,
      responseType = dev.openenv.grpc.v1.StepBatchResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StepBatchRequest,
      dev.openenv.grpc.v1.StepBatchResponse> getStepBatchMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StepBatchRequest, dev.openenv.grpc.v1.StepBatchResponse> getStepBatchMethod;
    if ((getStepBatchMethod = EnvServiceGrpc.getStepBatchMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getStepBatchMethod = EnvServiceGrpc.getStepBatchMethod) == null) {
          EnvServiceGrpc.getStepBatchMethod = getStepBatchMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.StepBatchRequest, dev.openenv.grpc.v1.StepBatchResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StepBatch"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.StepBatchRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.StepBatchResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("StepBatch"))
              .build();
        }
      }
    }
    return getStepBatchMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StateRequest,
      dev.openenv.grpc.v1.StateResponse> getStateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "State",
      requestType = dev.openenv.grpc.v1.StateRequest.class,
      responseType = dev.openenv.grpc.v1.StateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StateRequest,
      dev.openenv.grpc.v1.StateResponse> getStateMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StateRequest, dev.openenv.grpc.v1.StateResponse> getStateMethod;
    if ((getStateMethod = EnvServiceGrpc.getStateMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getStateMethod = EnvServiceGrpc.getStateMethod) == null) {
          EnvServiceGrpc.getStateMethod = getStateMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.StateRequest, dev.openenv.grpc.v1.StateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "State"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.StateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.StateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("State"))
              .build();
        }
      }
    }
    return getStateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.CloseSessionRequest,
      dev.openenv.grpc.v1.CloseSessionResponse> getCloseSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CloseSession",
      requestType = dev.openenv.grpc.v1.CloseSessionRequest.class,
      responseType = dev.openenv.grpc.v1.CloseSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.CloseSessionRequest,
      dev.openenv.grpc.v1.CloseSessionResponse> getCloseSessionMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.CloseSessionRequest, dev.openenv.grpc.v1.CloseSessionResponse> getCloseSessionMethod;
    if ((getCloseSessionMethod = EnvServiceGrpc.getCloseSessionMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getCloseSessionMethod = EnvServiceGrpc.getCloseSessionMethod) == null) {
          EnvServiceGrpc.getCloseSessionMethod = getCloseSessionMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.CloseSessionRequest, dev.openenv.grpc.v1.CloseSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CloseSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.CloseSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.CloseSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("CloseSession"))
              .build();
        }
      }
    }
    return getCloseSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StepStreamRequest,
      dev.openenv.grpc.v1.StepStreamResponse> getStepStreamMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StepStream",
      requestType = dev.openenv.grpc.v1.StepStreamRequest.class,
      responseType = dev.openenv.grpc.v1.StepStreamResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StepStreamRequest,
      dev.openenv.grpc.v1.StepStreamResponse> getStepStreamMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.StepStreamRequest, dev.openenv.grpc.v1.StepStreamResponse> getStepStreamMethod;
    if ((getStepStreamMethod = EnvServiceGrpc.getStepStreamMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getStepStreamMethod = EnvServiceGrpc.getStepStreamMethod) == null) {
          EnvServiceGrpc.getStepStreamMethod = getStepStreamMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.StepStreamRequest, dev.openenv.grpc.v1.StepStreamResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StepStream"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.StepStreamRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.StepStreamResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("StepStream"))
              .build();
        }
      }
    }
    return getStepStreamMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ListToolsRequest,
      dev.openenv.grpc.v1.ListToolsResponse> getListToolsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListTools",
      requestType = dev.openenv.grpc.v1.ListToolsRequest.class,
      responseType = dev.openenv.grpc.v1.ListToolsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ListToolsRequest,
      dev.openenv.grpc.v1.ListToolsResponse> getListToolsMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ListToolsRequest, dev.openenv.grpc.v1.ListToolsResponse> getListToolsMethod;
    if ((getListToolsMethod = EnvServiceGrpc.getListToolsMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getListToolsMethod = EnvServiceGrpc.getListToolsMethod) == null) {
          EnvServiceGrpc.getListToolsMethod = getListToolsMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.ListToolsRequest, dev.openenv.grpc.v1.ListToolsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListTools"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.ListToolsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.ListToolsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("ListTools"))
              .build();
        }
      }
    }
    return getListToolsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.CallToolRequest,
      dev.openenv.grpc.v1.CallToolResponse> getCallToolMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CallTool",
      requestType = dev.openenv.grpc.v1.CallToolRequest.class,
      responseType = dev.openenv.grpc.v1.CallToolResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.CallToolRequest,
      dev.openenv.grpc.v1.CallToolResponse> getCallToolMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.CallToolRequest, dev.openenv.grpc.v1.CallToolResponse> getCallToolMethod;
    if ((getCallToolMethod = EnvServiceGrpc.getCallToolMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getCallToolMethod = EnvServiceGrpc.getCallToolMethod) == null) {
          EnvServiceGrpc.getCallToolMethod = getCallToolMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.CallToolRequest, dev.openenv.grpc.v1.CallToolResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CallTool"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.CallToolRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.CallToolResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("CallTool"))
              .build();
        }
      }
    }
    return getCallToolMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ListTasksRequest,
      dev.openenv.grpc.v1.ListTasksResponse> getListTasksMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListTasks",
      requestType = dev.openenv.grpc.v1.ListTasksRequest.class,
      responseType = dev.openenv.grpc.v1.ListTasksResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ListTasksRequest,
      dev.openenv.grpc.v1.ListTasksResponse> getListTasksMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.ListTasksRequest, dev.openenv.grpc.v1.ListTasksResponse> getListTasksMethod;
    if ((getListTasksMethod = EnvServiceGrpc.getListTasksMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getListTasksMethod = EnvServiceGrpc.getListTasksMethod) == null) {
          EnvServiceGrpc.getListTasksMethod = getListTasksMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.ListTasksRequest, dev.openenv.grpc.v1.ListTasksResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListTasks"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.ListTasksRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.ListTasksResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("ListTasks"))
              .build();
        }
      }
    }
    return getListTasksMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.RenderRequest,
      dev.openenv.grpc.v1.RenderResponse> getRenderMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Render",
      requestType = dev.openenv.grpc.v1.RenderRequest.class,
      responseType = dev.openenv.grpc.v1.RenderResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.RenderRequest,
      dev.openenv.grpc.v1.RenderResponse> getRenderMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.RenderRequest, dev.openenv.grpc.v1.RenderResponse> getRenderMethod;
    if ((getRenderMethod = EnvServiceGrpc.getRenderMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getRenderMethod = EnvServiceGrpc.getRenderMethod) == null) {
          EnvServiceGrpc.getRenderMethod = getRenderMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.RenderRequest, dev.openenv.grpc.v1.RenderResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Render"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.RenderRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.RenderResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("Render"))
              .build();
        }
      }
    }
    return getRenderMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.openenv.grpc.v1.WatchSessionRequest,
      dev.openenv.grpc.v1.WatchSessionResponse> getWatchSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchSession",
      requestType = dev.openenv.grpc.v1.WatchSessionRequest.class,
      responseType = dev.openenv.grpc.v1.WatchSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.openenv.grpc.v1.WatchSessionRequest,
      dev.openenv.grpc.v1.WatchSessionResponse> getWatchSessionMethod() {
    io.grpc.MethodDescriptor<dev.openenv.grpc.v1.WatchSessionRequest, dev.openenv.grpc.v1.WatchSessionResponse> getWatchSessionMethod;
    if ((getWatchSessionMethod = EnvServiceGrpc.getWatchSessionMethod) == null) {
      synchronized (EnvServiceGrpc.class) {
        if ((getWatchSessionMethod = EnvServiceGrpc.getWatchSessionMethod) == null) {
          EnvServiceGrpc.getWatchSessionMethod = getWatchSessionMethod =
              io.grpc.MethodDescriptor.<dev.openenv.grpc.v1.WatchSessionRequest, dev.openenv.grpc.v1.WatchSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.WatchSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.openenv.grpc.v1.WatchSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EnvServiceMethodDescriptorSupplier("WatchSession"))
              .build();
        }
      }
    }
    return getWatchSessionMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static EnvServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EnvServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EnvServiceStub>() {
        @java.lang.Override
        public EnvServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EnvServiceStub(channel, callOptions);
        }
      };
    return EnvServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static EnvServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EnvServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EnvServiceBlockingV2Stub>() {
        @java.lang.Override
        public EnvServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EnvServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return EnvServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static EnvServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EnvServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EnvServiceBlockingStub>() {
        @java.lang.Override
        public EnvServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EnvServiceBlockingStub(channel, callOptions);
        }
      };
    return EnvServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static EnvServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EnvServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EnvServiceFutureStub>() {
        @java.lang.Override
        public EnvServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EnvServiceFutureStub(channel, callOptions);
        }
      };
    return EnvServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * EnvService serves one kind of environment, many sessions at once.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Describe returns the environment's spec: name, spaces, capabilities.
     * It needs no session and is safe to retry.
     * </pre>
     */
    default void describe(dev.openenv.grpc.v1.DescribeRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.DescribeResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDescribeMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reset starts a new episode of a single-env session: a new session
     * (`new_session`) or an existing one (`session_id`). Safe to retry with
     * the same `request_id`.
     * </pre>
     */
    default void reset(dev.openenv.grpc.v1.ResetRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ResetResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getResetMethod(), responseObserver);
    }

    /**
     * <pre>
     * Step applies one action to a single-env session's episode. Safe to
     * retry with the same `step_index`.
     * </pre>
     */
    default void step(dev.openenv.grpc.v1.StepRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStepMethod(), responseObserver);
    }

    /**
     * <pre>
     * ResetBatch resets sub-environments of a batched session, creating the
     * session first when `new_session` is set. Safe to retry with the same
     * `request_id`.
     * </pre>
     */
    default void resetBatch(dev.openenv.grpc.v1.ResetBatchRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ResetBatchResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getResetBatchMethod(), responseObserver);
    }

    /**
     * <pre>
     * StepBatch steps sub-environments of a batched session together. Safe
     * to retry with the same `step_index`.
     * </pre>
     */
    default void stepBatch(dev.openenv.grpc.v1.StepBatchRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepBatchResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStepBatchMethod(), responseObserver);
    }

    /**
     * <pre>
     * State returns where a session stands and the env's own state. It does
     * not change the session and is safe to retry.
     * </pre>
     */
    default void state(dev.openenv.grpc.v1.StateRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStateMethod(), responseObserver);
    }

    /**
     * <pre>
     * CloseSession closes a session and frees its environment.
     * </pre>
     */
    default void closeSession(dev.openenv.grpc.v1.CloseSessionRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.CloseSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCloseSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * StepStream drives one session over one bidirectional stream. The first
     * request creates the stream's session (a reset with `new_session`) or
     * attaches to an existing one. Every request is answered by exactly one
     * response that echoes its `seq`, in request order. A failed request is
     * answered by that response's `error` and the stream goes on; the stream
     * itself ends with a non-OK status only when it cannot go on (its session
     * was closed or reaped elsewhere, or the server is shutting down). A
     * session the stream created is closed when the stream ends; an attached
     * session is left open.
     * </pre>
     */
    default io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepStreamRequest> stepStream(
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepStreamResponse> responseObserver) {
      return io.grpc.stub.ServerCalls.asyncUnimplementedStreamingCall(getStepStreamMethod(), responseObserver);
    }

    /**
     * <pre>
     * ListTools lists the MCP tools of a session's environment (see
     * tools.proto). It does not change the session and is safe to retry.
     * (Since 1.4.)
     * </pre>
     */
    default void listTools(dev.openenv.grpc.v1.ListToolsRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ListToolsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListToolsMethod(), responseObserver);
    }

    /**
     * <pre>
     * CallTool runs one tool of a single-env session's environment, one call
     * at a time with its steps, within the step timeout. Safe to retry with
     * the same `request_id`. (Since 1.4.)
     * </pre>
     */
    default void callTool(dev.openenv.grpc.v1.CallToolRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.CallToolResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCallToolMethod(), responseObserver);
    }

    /**
     * <pre>
     * ListTasks returns a range of one split's tasks, public parts only (see
     * tasks.proto). It needs no session and is safe to retry. (Since 1.4.)
     * </pre>
     */
    default void listTasks(dev.openenv.grpc.v1.ListTasksRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ListTasksResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListTasksMethod(), responseObserver);
    }

    /**
     * <pre>
     * Render returns the current frame of a single-env session in its render
     * mode (see frames.proto). It runs env code like a step, within the step
     * timeout, and does not change the episode. (Since 1.4.)
     * </pre>
     */
    default void render(dev.openenv.grpc.v1.RenderRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.RenderResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRenderMethod(), responseObserver);
    }

    /**
     * <pre>
     * WatchSession streams the step summaries and frames of a live
     * single-env session at the watcher's rate, dropping what a slow
     * watcher cannot take (see frames.proto); the session's owner or an
     * admin principal only. (Since 1.4.)
     * </pre>
     */
    default void watchSession(dev.openenv.grpc.v1.WatchSessionRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.WatchSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchSessionMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service EnvService.
   * <pre>
   * EnvService serves one kind of environment, many sessions at once.
   * </pre>
   */
  public static abstract class EnvServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return EnvServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service EnvService.
   * <pre>
   * EnvService serves one kind of environment, many sessions at once.
   * </pre>
   */
  public static final class EnvServiceStub
      extends io.grpc.stub.AbstractAsyncStub<EnvServiceStub> {
    private EnvServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EnvServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EnvServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Describe returns the environment's spec: name, spaces, capabilities.
     * It needs no session and is safe to retry.
     * </pre>
     */
    public void describe(dev.openenv.grpc.v1.DescribeRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.DescribeResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDescribeMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reset starts a new episode of a single-env session: a new session
     * (`new_session`) or an existing one (`session_id`). Safe to retry with
     * the same `request_id`.
     * </pre>
     */
    public void reset(dev.openenv.grpc.v1.ResetRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ResetResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getResetMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Step applies one action to a single-env session's episode. Safe to
     * retry with the same `step_index`.
     * </pre>
     */
    public void step(dev.openenv.grpc.v1.StepRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getStepMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ResetBatch resets sub-environments of a batched session, creating the
     * session first when `new_session` is set. Safe to retry with the same
     * `request_id`.
     * </pre>
     */
    public void resetBatch(dev.openenv.grpc.v1.ResetBatchRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ResetBatchResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getResetBatchMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * StepBatch steps sub-environments of a batched session together. Safe
     * to retry with the same `step_index`.
     * </pre>
     */
    public void stepBatch(dev.openenv.grpc.v1.StepBatchRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepBatchResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getStepBatchMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * State returns where a session stands and the env's own state. It does
     * not change the session and is safe to retry.
     * </pre>
     */
    public void state(dev.openenv.grpc.v1.StateRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getStateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * CloseSession closes a session and frees its environment.
     * </pre>
     */
    public void closeSession(dev.openenv.grpc.v1.CloseSessionRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.CloseSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCloseSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * StepStream drives one session over one bidirectional stream. The first
     * request creates the stream's session (a reset with `new_session`) or
     * attaches to an existing one. Every request is answered by exactly one
     * response that echoes its `seq`, in request order. A failed request is
     * answered by that response's `error` and the stream goes on; the stream
     * itself ends with a non-OK status only when it cannot go on (its session
     * was closed or reaped elsewhere, or the server is shutting down). A
     * session the stream created is closed when the stream ends; an attached
     * session is left open.
     * </pre>
     */
    public io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepStreamRequest> stepStream(
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepStreamResponse> responseObserver) {
      return io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
          getChannel().newCall(getStepStreamMethod(), getCallOptions()), responseObserver);
    }

    /**
     * <pre>
     * ListTools lists the MCP tools of a session's environment (see
     * tools.proto). It does not change the session and is safe to retry.
     * (Since 1.4.)
     * </pre>
     */
    public void listTools(dev.openenv.grpc.v1.ListToolsRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ListToolsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListToolsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * CallTool runs one tool of a single-env session's environment, one call
     * at a time with its steps, within the step timeout. Safe to retry with
     * the same `request_id`. (Since 1.4.)
     * </pre>
     */
    public void callTool(dev.openenv.grpc.v1.CallToolRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.CallToolResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCallToolMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * ListTasks returns a range of one split's tasks, public parts only (see
     * tasks.proto). It needs no session and is safe to retry. (Since 1.4.)
     * </pre>
     */
    public void listTasks(dev.openenv.grpc.v1.ListTasksRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ListTasksResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListTasksMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Render returns the current frame of a single-env session in its render
     * mode (see frames.proto). It runs env code like a step, within the step
     * timeout, and does not change the episode. (Since 1.4.)
     * </pre>
     */
    public void render(dev.openenv.grpc.v1.RenderRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.RenderResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRenderMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * WatchSession streams the step summaries and frames of a live
     * single-env session at the watcher's rate, dropping what a slow
     * watcher cannot take (see frames.proto); the session's owner or an
     * admin principal only. (Since 1.4.)
     * </pre>
     */
    public void watchSession(dev.openenv.grpc.v1.WatchSessionRequest request,
        io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.WatchSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchSessionMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service EnvService.
   * <pre>
   * EnvService serves one kind of environment, many sessions at once.
   * </pre>
   */
  public static final class EnvServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<EnvServiceBlockingV2Stub> {
    private EnvServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EnvServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EnvServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Describe returns the environment's spec: name, spaces, capabilities.
     * It needs no session and is safe to retry.
     * </pre>
     */
    public dev.openenv.grpc.v1.DescribeResponse describe(dev.openenv.grpc.v1.DescribeRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDescribeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reset starts a new episode of a single-env session: a new session
     * (`new_session`) or an existing one (`session_id`). Safe to retry with
     * the same `request_id`.
     * </pre>
     */
    public dev.openenv.grpc.v1.ResetResponse reset(dev.openenv.grpc.v1.ResetRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getResetMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Step applies one action to a single-env session's episode. Safe to
     * retry with the same `step_index`.
     * </pre>
     */
    public dev.openenv.grpc.v1.StepResponse step(dev.openenv.grpc.v1.StepRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getStepMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ResetBatch resets sub-environments of a batched session, creating the
     * session first when `new_session` is set. Safe to retry with the same
     * `request_id`.
     * </pre>
     */
    public dev.openenv.grpc.v1.ResetBatchResponse resetBatch(dev.openenv.grpc.v1.ResetBatchRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getResetBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * StepBatch steps sub-environments of a batched session together. Safe
     * to retry with the same `step_index`.
     * </pre>
     */
    public dev.openenv.grpc.v1.StepBatchResponse stepBatch(dev.openenv.grpc.v1.StepBatchRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getStepBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * State returns where a session stands and the env's own state. It does
     * not change the session and is safe to retry.
     * </pre>
     */
    public dev.openenv.grpc.v1.StateResponse state(dev.openenv.grpc.v1.StateRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getStateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CloseSession closes a session and frees its environment.
     * </pre>
     */
    public dev.openenv.grpc.v1.CloseSessionResponse closeSession(dev.openenv.grpc.v1.CloseSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCloseSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * StepStream drives one session over one bidirectional stream. The first
     * request creates the stream's session (a reset with `new_session`) or
     * attaches to an existing one. Every request is answered by exactly one
     * response that echoes its `seq`, in request order. A failed request is
     * answered by that response's `error` and the stream goes on; the stream
     * itself ends with a non-OK status only when it cannot go on (its session
     * was closed or reaped elsewhere, or the server is shutting down). A
     * session the stream created is closed when the stream ends; an attached
     * session is left open.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<dev.openenv.grpc.v1.StepStreamRequest, dev.openenv.grpc.v1.StepStreamResponse>
        stepStream() {
      return io.grpc.stub.ClientCalls.blockingBidiStreamingCall(
          getChannel(), getStepStreamMethod(), getCallOptions());
    }

    /**
     * <pre>
     * ListTools lists the MCP tools of a session's environment (see
     * tools.proto). It does not change the session and is safe to retry.
     * (Since 1.4.)
     * </pre>
     */
    public dev.openenv.grpc.v1.ListToolsResponse listTools(dev.openenv.grpc.v1.ListToolsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListToolsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CallTool runs one tool of a single-env session's environment, one call
     * at a time with its steps, within the step timeout. Safe to retry with
     * the same `request_id`. (Since 1.4.)
     * </pre>
     */
    public dev.openenv.grpc.v1.CallToolResponse callTool(dev.openenv.grpc.v1.CallToolRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCallToolMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListTasks returns a range of one split's tasks, public parts only (see
     * tasks.proto). It needs no session and is safe to retry. (Since 1.4.)
     * </pre>
     */
    public dev.openenv.grpc.v1.ListTasksResponse listTasks(dev.openenv.grpc.v1.ListTasksRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListTasksMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Render returns the current frame of a single-env session in its render
     * mode (see frames.proto). It runs env code like a step, within the step
     * timeout, and does not change the episode. (Since 1.4.)
     * </pre>
     */
    public dev.openenv.grpc.v1.RenderResponse render(dev.openenv.grpc.v1.RenderRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getRenderMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * WatchSession streams the step summaries and frames of a live
     * single-env session at the watcher's rate, dropping what a slow
     * watcher cannot take (see frames.proto); the session's owner or an
     * admin principal only. (Since 1.4.)
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.openenv.grpc.v1.WatchSessionResponse>
        watchSession(dev.openenv.grpc.v1.WatchSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchSessionMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service EnvService.
   * <pre>
   * EnvService serves one kind of environment, many sessions at once.
   * </pre>
   */
  public static final class EnvServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<EnvServiceBlockingStub> {
    private EnvServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EnvServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EnvServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Describe returns the environment's spec: name, spaces, capabilities.
     * It needs no session and is safe to retry.
     * </pre>
     */
    public dev.openenv.grpc.v1.DescribeResponse describe(dev.openenv.grpc.v1.DescribeRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDescribeMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reset starts a new episode of a single-env session: a new session
     * (`new_session`) or an existing one (`session_id`). Safe to retry with
     * the same `request_id`.
     * </pre>
     */
    public dev.openenv.grpc.v1.ResetResponse reset(dev.openenv.grpc.v1.ResetRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getResetMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Step applies one action to a single-env session's episode. Safe to
     * retry with the same `step_index`.
     * </pre>
     */
    public dev.openenv.grpc.v1.StepResponse step(dev.openenv.grpc.v1.StepRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getStepMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ResetBatch resets sub-environments of a batched session, creating the
     * session first when `new_session` is set. Safe to retry with the same
     * `request_id`.
     * </pre>
     */
    public dev.openenv.grpc.v1.ResetBatchResponse resetBatch(dev.openenv.grpc.v1.ResetBatchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getResetBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * StepBatch steps sub-environments of a batched session together. Safe
     * to retry with the same `step_index`.
     * </pre>
     */
    public dev.openenv.grpc.v1.StepBatchResponse stepBatch(dev.openenv.grpc.v1.StepBatchRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getStepBatchMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * State returns where a session stands and the env's own state. It does
     * not change the session and is safe to retry.
     * </pre>
     */
    public dev.openenv.grpc.v1.StateResponse state(dev.openenv.grpc.v1.StateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getStateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CloseSession closes a session and frees its environment.
     * </pre>
     */
    public dev.openenv.grpc.v1.CloseSessionResponse closeSession(dev.openenv.grpc.v1.CloseSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCloseSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListTools lists the MCP tools of a session's environment (see
     * tools.proto). It does not change the session and is safe to retry.
     * (Since 1.4.)
     * </pre>
     */
    public dev.openenv.grpc.v1.ListToolsResponse listTools(dev.openenv.grpc.v1.ListToolsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListToolsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * CallTool runs one tool of a single-env session's environment, one call
     * at a time with its steps, within the step timeout. Safe to retry with
     * the same `request_id`. (Since 1.4.)
     * </pre>
     */
    public dev.openenv.grpc.v1.CallToolResponse callTool(dev.openenv.grpc.v1.CallToolRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCallToolMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * ListTasks returns a range of one split's tasks, public parts only (see
     * tasks.proto). It needs no session and is safe to retry. (Since 1.4.)
     * </pre>
     */
    public dev.openenv.grpc.v1.ListTasksResponse listTasks(dev.openenv.grpc.v1.ListTasksRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListTasksMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Render returns the current frame of a single-env session in its render
     * mode (see frames.proto). It runs env code like a step, within the step
     * timeout, and does not change the episode. (Since 1.4.)
     * </pre>
     */
    public dev.openenv.grpc.v1.RenderResponse render(dev.openenv.grpc.v1.RenderRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRenderMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * WatchSession streams the step summaries and frames of a live
     * single-env session at the watcher's rate, dropping what a slow
     * watcher cannot take (see frames.proto); the session's owner or an
     * admin principal only. (Since 1.4.)
     * </pre>
     */
    public java.util.Iterator<dev.openenv.grpc.v1.WatchSessionResponse> watchSession(
        dev.openenv.grpc.v1.WatchSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchSessionMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service EnvService.
   * <pre>
   * EnvService serves one kind of environment, many sessions at once.
   * </pre>
   */
  public static final class EnvServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<EnvServiceFutureStub> {
    private EnvServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EnvServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EnvServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Describe returns the environment's spec: name, spaces, capabilities.
     * It needs no session and is safe to retry.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.DescribeResponse> describe(
        dev.openenv.grpc.v1.DescribeRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDescribeMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reset starts a new episode of a single-env session: a new session
     * (`new_session`) or an existing one (`session_id`). Safe to retry with
     * the same `request_id`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.ResetResponse> reset(
        dev.openenv.grpc.v1.ResetRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getResetMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Step applies one action to a single-env session's episode. Safe to
     * retry with the same `step_index`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.StepResponse> step(
        dev.openenv.grpc.v1.StepRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getStepMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ResetBatch resets sub-environments of a batched session, creating the
     * session first when `new_session` is set. Safe to retry with the same
     * `request_id`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.ResetBatchResponse> resetBatch(
        dev.openenv.grpc.v1.ResetBatchRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getResetBatchMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * StepBatch steps sub-environments of a batched session together. Safe
     * to retry with the same `step_index`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.StepBatchResponse> stepBatch(
        dev.openenv.grpc.v1.StepBatchRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getStepBatchMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * State returns where a session stands and the env's own state. It does
     * not change the session and is safe to retry.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.StateResponse> state(
        dev.openenv.grpc.v1.StateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getStateMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * CloseSession closes a session and frees its environment.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.CloseSessionResponse> closeSession(
        dev.openenv.grpc.v1.CloseSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCloseSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ListTools lists the MCP tools of a session's environment (see
     * tools.proto). It does not change the session and is safe to retry.
     * (Since 1.4.)
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.ListToolsResponse> listTools(
        dev.openenv.grpc.v1.ListToolsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListToolsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * CallTool runs one tool of a single-env session's environment, one call
     * at a time with its steps, within the step timeout. Safe to retry with
     * the same `request_id`. (Since 1.4.)
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.CallToolResponse> callTool(
        dev.openenv.grpc.v1.CallToolRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCallToolMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * ListTasks returns a range of one split's tasks, public parts only (see
     * tasks.proto). It needs no session and is safe to retry. (Since 1.4.)
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.ListTasksResponse> listTasks(
        dev.openenv.grpc.v1.ListTasksRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListTasksMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Render returns the current frame of a single-env session in its render
     * mode (see frames.proto). It runs env code like a step, within the step
     * timeout, and does not change the episode. (Since 1.4.)
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.openenv.grpc.v1.RenderResponse> render(
        dev.openenv.grpc.v1.RenderRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRenderMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_DESCRIBE = 0;
  private static final int METHODID_RESET = 1;
  private static final int METHODID_STEP = 2;
  private static final int METHODID_RESET_BATCH = 3;
  private static final int METHODID_STEP_BATCH = 4;
  private static final int METHODID_STATE = 5;
  private static final int METHODID_CLOSE_SESSION = 6;
  private static final int METHODID_LIST_TOOLS = 7;
  private static final int METHODID_CALL_TOOL = 8;
  private static final int METHODID_LIST_TASKS = 9;
  private static final int METHODID_RENDER = 10;
  private static final int METHODID_WATCH_SESSION = 11;
  private static final int METHODID_STEP_STREAM = 12;

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
        case METHODID_DESCRIBE:
          serviceImpl.describe((dev.openenv.grpc.v1.DescribeRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.DescribeResponse>) responseObserver);
          break;
        case METHODID_RESET:
          serviceImpl.reset((dev.openenv.grpc.v1.ResetRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ResetResponse>) responseObserver);
          break;
        case METHODID_STEP:
          serviceImpl.step((dev.openenv.grpc.v1.StepRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepResponse>) responseObserver);
          break;
        case METHODID_RESET_BATCH:
          serviceImpl.resetBatch((dev.openenv.grpc.v1.ResetBatchRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ResetBatchResponse>) responseObserver);
          break;
        case METHODID_STEP_BATCH:
          serviceImpl.stepBatch((dev.openenv.grpc.v1.StepBatchRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepBatchResponse>) responseObserver);
          break;
        case METHODID_STATE:
          serviceImpl.state((dev.openenv.grpc.v1.StateRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StateResponse>) responseObserver);
          break;
        case METHODID_CLOSE_SESSION:
          serviceImpl.closeSession((dev.openenv.grpc.v1.CloseSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.CloseSessionResponse>) responseObserver);
          break;
        case METHODID_LIST_TOOLS:
          serviceImpl.listTools((dev.openenv.grpc.v1.ListToolsRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ListToolsResponse>) responseObserver);
          break;
        case METHODID_CALL_TOOL:
          serviceImpl.callTool((dev.openenv.grpc.v1.CallToolRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.CallToolResponse>) responseObserver);
          break;
        case METHODID_LIST_TASKS:
          serviceImpl.listTasks((dev.openenv.grpc.v1.ListTasksRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.ListTasksResponse>) responseObserver);
          break;
        case METHODID_RENDER:
          serviceImpl.render((dev.openenv.grpc.v1.RenderRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.RenderResponse>) responseObserver);
          break;
        case METHODID_WATCH_SESSION:
          serviceImpl.watchSession((dev.openenv.grpc.v1.WatchSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.WatchSessionResponse>) responseObserver);
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
        case METHODID_STEP_STREAM:
          return (io.grpc.stub.StreamObserver<Req>) serviceImpl.stepStream(
              (io.grpc.stub.StreamObserver<dev.openenv.grpc.v1.StepStreamResponse>) responseObserver);
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getDescribeMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.DescribeRequest,
              dev.openenv.grpc.v1.DescribeResponse>(
                service, METHODID_DESCRIBE)))
        .addMethod(
          getResetMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.ResetRequest,
              dev.openenv.grpc.v1.ResetResponse>(
                service, METHODID_RESET)))
        .addMethod(
          getStepMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.StepRequest,
              dev.openenv.grpc.v1.StepResponse>(
                service, METHODID_STEP)))
        .addMethod(
          getResetBatchMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.ResetBatchRequest,
              dev.openenv.grpc.v1.ResetBatchResponse>(
                service, METHODID_RESET_BATCH)))
        .addMethod(
          getStepBatchMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.StepBatchRequest,
              dev.openenv.grpc.v1.StepBatchResponse>(
                service, METHODID_STEP_BATCH)))
        .addMethod(
          getStateMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.StateRequest,
              dev.openenv.grpc.v1.StateResponse>(
                service, METHODID_STATE)))
        .addMethod(
          getCloseSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.CloseSessionRequest,
              dev.openenv.grpc.v1.CloseSessionResponse>(
                service, METHODID_CLOSE_SESSION)))
        .addMethod(
          getStepStreamMethod(),
          io.grpc.stub.ServerCalls.asyncBidiStreamingCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.StepStreamRequest,
              dev.openenv.grpc.v1.StepStreamResponse>(
                service, METHODID_STEP_STREAM)))
        .addMethod(
          getListToolsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.ListToolsRequest,
              dev.openenv.grpc.v1.ListToolsResponse>(
                service, METHODID_LIST_TOOLS)))
        .addMethod(
          getCallToolMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.CallToolRequest,
              dev.openenv.grpc.v1.CallToolResponse>(
                service, METHODID_CALL_TOOL)))
        .addMethod(
          getListTasksMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.ListTasksRequest,
              dev.openenv.grpc.v1.ListTasksResponse>(
                service, METHODID_LIST_TASKS)))
        .addMethod(
          getRenderMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.RenderRequest,
              dev.openenv.grpc.v1.RenderResponse>(
                service, METHODID_RENDER)))
        .addMethod(
          getWatchSessionMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.openenv.grpc.v1.WatchSessionRequest,
              dev.openenv.grpc.v1.WatchSessionResponse>(
                service, METHODID_WATCH_SESSION)))
        .build();
  }

  private static abstract class EnvServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    EnvServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.openenv.grpc.v1.EnvServiceProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("EnvService");
    }
  }

  private static final class EnvServiceFileDescriptorSupplier
      extends EnvServiceBaseDescriptorSupplier {
    EnvServiceFileDescriptorSupplier() {}
  }

  private static final class EnvServiceMethodDescriptorSupplier
      extends EnvServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    EnvServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (EnvServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new EnvServiceFileDescriptorSupplier())
              .addMethod(getDescribeMethod())
              .addMethod(getResetMethod())
              .addMethod(getStepMethod())
              .addMethod(getResetBatchMethod())
              .addMethod(getStepBatchMethod())
              .addMethod(getStateMethod())
              .addMethod(getCloseSessionMethod())
              .addMethod(getStepStreamMethod())
              .addMethod(getListToolsMethod())
              .addMethod(getCallToolMethod())
              .addMethod(getListTasksMethod())
              .addMethod(getRenderMethod())
              .addMethod(getWatchSessionMethod())
              .build();
        }
      }
    }
    return result;
  }
}
