"""Execution providers of the node's sessions: TensorRT (with its engines cached beside the
build's model, built on the node) and CUDA where this node's onnxruntime has them, the CPU
always last; on this machine's onnxruntime, the CPU alone and no engine folder."""

from ichlabel_edge.runtime import CPU, CUDA, ENGINES, TENSORRT, execution_providers, open_session


def test_the_best_provider_the_node_has_comes_first_and_the_cpu_last(tmp_path):
    jetson = execution_providers([TENSORRT, CUDA, CPU], tmp_path / ENGINES)
    cuda_only = execution_providers([CUDA, CPU], tmp_path / ENGINES)
    cpu_only = execution_providers([CPU], tmp_path / ENGINES)

    assert jetson == [
        (
            TENSORRT,
            {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(tmp_path / ENGINES)},
        ),
        CUDA,
        CPU,
    ]
    assert cuda_only == [CUDA, CPU] and cpu_only == [CPU]


def test_a_session_here_runs_on_the_cpu_without_an_engine_folder(model_files):
    session = open_session(model_files.model)

    assert session.get_providers()[-1] == CPU
    if session.get_providers() == [CPU]:
        assert not (model_files.model.parent / ENGINES).exists()
