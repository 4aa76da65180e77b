"""protoc plugin `grpc_python` for buf, backed by grpcio-tools' bundled compiler.

grpcio-tools builds its gRPC Python generator into `grpc_tools.protoc` and
ships no `protoc-gen-grpc_python` executable, and buf only runs protoc's own
built-in generators through `protoc_builtin`. This adapter speaks the plugin
protocol on stdin/stdout: it hands buf's request to grpcio-tools as a
descriptor set and returns the files grpcio-tools wrote. The generator and
its version are therefore exactly the pinned grpcio-tools in .venv.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    )
    with tempfile.TemporaryDirectory() as scratch:
        root = pathlib.Path(scratch)
        descriptors = descriptor_pb2.FileDescriptorSet(file=request.proto_file)
        (root / "in.binpb").write_bytes(descriptors.SerializeToString())
        out = root / "out"
        out.mkdir()
        args = [
            "grpc_tools.protoc",
            f"--descriptor_set_in={root / 'in.binpb'}",
            f"--grpc_python_out={out}",
            *request.file_to_generate,
        ]
        if protoc.main(args) != 0:
            response.error = "grpc_tools.protoc failed: " + " ".join(args)
        else:
            for path in sorted(out.rglob("*.py")):
                response.file.add(name=str(path.relative_to(out)), content=path.read_text())
    sys.stdout.buffer.write(response.SerializeToString())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
