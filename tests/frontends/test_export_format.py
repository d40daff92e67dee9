"""What qrt_torch writes: the file layout of ir/schema/README.md and the graph of simple models."""

import os
import subprocess
import tempfile
import unittest
from unittest import mock

import numpy as np
import torch
import torch.nn as nn

from exporter_test_support import qrt_torch, require_cli  # also puts frontends/pytorch on sys.path
import qrt_torch_format  # noqa: E402  (after the path is set)

ALIGNMENT = 64


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, num_layers=2, batch_first=True, bias=False)
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[:, -1]), y.reshape(x.shape[0], -1)


def export_and_read(model, inputs, **kwargs):
    with tempfile.TemporaryDirectory(prefix="qrt_format_") as d:
        path = os.path.join(d, "m.qrt")
        summary = qrt_torch.export(model, inputs, path, **kwargs)
        return summary, qrt_torch.read_qrt(path)


def node_by_op(model, op):
    nodes = [n for n in model["nodes"] if n["op"] == op]
    assert len(nodes) == 1, f"expected one {op} node, got {len(nodes)}"
    return nodes[0]


class FileLayoutTest(unittest.TestCase):
    def setUp(self):
        seed = 11
        print(f"\n  seed {seed}", end="")
        torch.manual_seed(seed)
        self.model = TwoLayer()
        self.x = torch.randn(3, 7, 3)
        self.summary, self.file = export_and_read(self.model, self.x)

    def test_header_identifier_and_version(self):
        data = self.file["bytes"]
        self.assertEqual(data[8:12], b"QRT1")
        self.assertLessEqual(self.file["size_prefix"] + 4, self.file["buffers"][0][0])
        self.assertEqual(self.file["format_version"], 1)
        self.assertEqual(self.file["producer"], f"qrt_torch {qrt_torch.__version__}")
        self.assertEqual(self.file["metadata"]["source"], "torch.jit.trace")

    def test_buffers_are_aligned_zero_padded_and_hold_the_weights(self):
        data = self.file["bytes"]
        end = self.file["size_prefix"] + 4
        for offset, size in self.file["buffers"]:
            self.assertEqual(offset % ALIGNMENT, 0)
            self.assertGreaterEqual(offset, end)
            self.assertLess(offset - end, ALIGNMENT, "buffers are laid out with minimal padding")
            self.assertEqual(bytes(data[end:offset]), b"\0" * (offset - end))
            end = offset + size
        self.assertEqual(end, len(data))
        weights = {t["name"]: t["data"] for t in self.file["tensors"] if t["buffer"] >= 0}
        for name, param in self.model.named_parameters():
            self.assertIn(name, weights)
            np.testing.assert_array_equal(weights[name], param.detach().numpy())
            self.assertGreater(float(np.abs(weights[name]).max()), 0.0)

    def test_default_names_and_dynamic_batch(self):
        tensors = self.file["tensors"]
        self.assertEqual([tensors[i]["name"] for i in self.file["inputs"]], ["input0"])
        self.assertEqual([tensors[i]["name"] for i in self.file["outputs"]],
                         ["output0", "output1"])
        self.assertEqual(tensors[self.file["inputs"][0]]["shape"], [-1, 7, 3])
        self.assertEqual(tensors[self.file["outputs"][0]]["shape"], [-1, 2])
        self.assertEqual(self.summary["inputs"], [("input0", [-1, 7, 3])])

    def test_static_batch_when_asked(self):
        _, f = export_and_read(self.model, self.x, dynamic_batch=False)
        for t in f["tensors"]:
            self.assertNotIn(-1, t["shape"], t["name"])
        reshape = node_by_op(f, "Reshape")
        self.assertEqual(reshape["attrs"]["shape"], [3, -1])

    def test_lstm_inputs_and_attrs(self):
        lstm = node_by_op(self.file, "LSTM")
        self.assertEqual(lstm["attrs"], {"hidden_size": 5, "num_layers": 2})
        # x, h0?, c0?, then per layer w_ih, w_hh, b_ih?, b_hh? (no bias, default zero state).
        self.assertEqual(len(lstm["inputs"]), 3 + 4 * 2)
        self.assertEqual(lstm["inputs"][1:3], [-1, -1])
        self.assertEqual(lstm["inputs"][5:7], [-1, -1])
        self.assertEqual(lstm["inputs"][9:11], [-1, -1])
        names = [self.file["tensors"][i]["name"] for i in lstm["inputs"] if i >= 0]
        self.assertEqual(names, ["input0", "lstm.weight_ih_l0", "lstm.weight_hh_l0",
                                 "lstm.weight_ih_l1", "lstm.weight_hh_l1"])

    def test_batch_reshape_copies_the_input_dim(self):
        self.assertEqual(node_by_op(self.file, "Reshape")["attrs"]["shape"], [0, -1])

    def test_last_step_is_a_squeezing_slice(self):
        self.assertEqual(node_by_op(self.file, "Slice")["attrs"],
                         {"axis": 1, "start": -1, "end": 2**63 - 1, "step": 1, "squeeze": True})

    def test_same_model_gives_same_bytes(self):
        _, again = export_and_read(self.model, self.x)
        self.assertEqual(again["bytes"], self.file["bytes"])


class GraphShapeTest(unittest.TestCase):
    def test_state_inputs_mark_dim_1_as_batch(self):
        class WithState(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(2, 3, batch_first=True)

            def forward(self, x, h0, c0):
                y, (h, c) = self.lstm(x, (h0, c0))
                return y, h, c

        torch.manual_seed(12)
        summary, f = export_and_read(WithState(), (torch.randn(2, 5, 2), torch.randn(1, 2, 3),
                                                   torch.randn(1, 2, 3)),
                                     input_names=["x", "h0", "c0"], output_names=["y", "h", "c"])
        self.assertEqual(summary["inputs"], [("x", [-1, 5, 2]), ("h0", [1, -1, 3]),
                                             ("c0", [1, -1, 3])])
        self.assertEqual(summary["outputs"], [("y", [-1, 5, 3]), ("h", [1, -1, 3]),
                                              ("c", [1, -1, 3])])
        lstm = node_by_op(f, "LSTM")
        self.assertEqual(lstm["inputs"][:3], f["inputs"])

    def test_unused_outputs_and_dead_code_are_pruned(self):
        class Dead(nn.Module):
            def __init__(self):
                super().__init__()
                self.unused = nn.Linear(4, 4)

            def forward(self, x):
                _ = self.unused(x)
                return torch.relu(x)

        _, f = export_and_read(Dead(), torch.randn(2, 4))
        self.assertEqual([n["op"] for n in f["nodes"]], ["Relu"])
        self.assertEqual(f["buffers"], [])

    def test_returning_an_input_or_a_value_twice_inserts_a_copy(self):
        class Echo(nn.Module):
            def forward(self, x):
                y = torch.tanh(x)
                return x, y, y

        _, f = export_and_read(Echo(), torch.randn(2, 3))
        outputs = f["outputs"]
        self.assertEqual(len(set(outputs)), 3)
        self.assertNotIn(outputs[0], f["inputs"])
        copies = [n for n in f["nodes"] if n["op"] == "Reshape"]
        self.assertEqual(len(copies), 2)
        for n in copies:
            self.assertEqual(n["attrs"]["shape"], [0, 0])

    def test_scalar_operands_become_constants(self):
        class Affine(nn.Module):
            def forward(self, x):
                return 2.5 - x * 3

        _, f = export_and_read(Affine(), torch.randn(2, 3))
        self.assertEqual([n["op"] for n in f["nodes"]], ["Mul", "Sub"])
        constants = sorted(float(t["data"].reshape(-1)[0]) for t in f["tensors"]
                           if t["buffer"] >= 0)
        self.assertEqual(constants, [2.5, 3.0])

    def test_add_with_alpha_scales_the_other_operand(self):
        class Alpha(nn.Module):
            def forward(self, x, y):
                return torch.add(x, y, alpha=3)

        _, f = export_and_read(Alpha(), (torch.randn(2, 3), torch.randn(2, 3)))
        self.assertEqual([n["op"] for n in f["nodes"]], ["Mul", "Add"])


class SchemaCodeTest(unittest.TestCase):
    def test_generated_code_is_cached_by_schema_hash(self):
        with tempfile.TemporaryDirectory() as cache:
            with mock.patch.dict(os.environ, {"XDG_CACHE_HOME": cache}):
                folder = qrt_torch_format._generate_schema_package(qrt_torch_format._SCHEMA_PATH)
                self.assertTrue(os.path.isfile(os.path.join(folder, "qrt", "fb", "Model.py")))
                self.assertEqual(os.listdir(os.path.join(cache, "qrt")),
                                 [os.path.basename(folder)], "no scratch folder left behind")
                again = qrt_torch_format._generate_schema_package(qrt_torch_format._SCHEMA_PATH)
                self.assertEqual(again, folder)

    def test_missing_flatc_is_a_clear_error(self):
        with tempfile.TemporaryDirectory() as cache:
            env = {"XDG_CACHE_HOME": cache, "PATH": cache, "QRT_FLATC": ""}
            with mock.patch.dict(os.environ, env):
                with self.assertRaises(qrt_torch_format.FormatError) as err:
                    qrt_torch_format._generate_schema_package(qrt_torch_format._SCHEMA_PATH)
        self.assertIn("flatc", str(err.exception))
        self.assertIn("PATH", str(err.exception))


if __name__ == "__main__":
    unittest.main()


class FusedActivationReadTest(unittest.TestCase):
    """`qrt quantize` fuses an activation into the Linear before it (format version 5); the
    reader reports it as that Linear's attrs, and `--no-fuse` keeps the activation node."""

    def test_reader_reports_the_fused_activation(self):
        cli = require_cli(self)
        torch.manual_seed(11)
        model = nn.Sequential(nn.Linear(32, 32), nn.GELU(approximate="tanh"), nn.Linear(32, 4))
        with tempfile.TemporaryDirectory(prefix="qrt_fused_") as d:
            fp32 = os.path.join(d, "m.qrt")
            qrt_torch.export(model.eval(), torch.randn(2, 32), fp32)
            for extra, fused in (([], True), (["--no-fuse"], False)):
                out = os.path.join(d, "q.qrt")
                cmd = [cli, "quantize", fp32, "-o", out, "--mode", "dynamic", "--keep", "none"]
                proc = subprocess.run(cmd + extra, capture_output=True, text=True, timeout=120)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                read = qrt_torch.read_qrt(out)
                ops = [n["op"] for n in read["nodes"]]
                linears = [n["attrs"] for n in read["nodes"] if n["op"] == "Linear"]
                if fused:
                    self.assertEqual(ops, ["Linear", "Linear"])
                    self.assertEqual(linears, [{"activation": "GeluTanh"}, {}])
                    self.assertGreaterEqual(read["format_version"], 5)
                else:
                    self.assertEqual(ops, ["Linear", "Gelu", "Linear"])
                    self.assertEqual(linears, [{}, {}])
