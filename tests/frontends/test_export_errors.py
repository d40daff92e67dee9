"""Models qrt_torch must refuse, with a message that names the node and the reason."""

import os
import tempfile
import unittest

import torch
import torch.nn as nn

from exporter_test_support import qrt_torch  # also puts frontends/pytorch on sys.path


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 2)

    def forward(self, x):
        return torch.relu(self.conv(x))


class Lstm(nn.Module):
    def __init__(self, **kwargs):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, **kwargs)

    def forward(self, x):
        return self.lstm(x)[0]


class Lambda(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


class ExportErrorTest(unittest.TestCase):
    def export_error(self, model, inputs):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "m.qrt")
            with self.assertRaises(qrt_torch.ExportError) as err:
                qrt_torch.export(model, inputs, path)
            self.assertFalse(os.path.exists(path), "no file is written when the export fails")
        message = str(err.exception)
        print(f"\n  {message}", end="")
        return message

    def test_unsupported_op_names_node_scope_and_line(self):
        message = self.export_error(MyModel(), torch.randn(2, 3, 5))
        self.assertIn("qrt_torch: cannot export node 'aten::_convolution' (MyModel/conv) : "
                      "unsupported op", message)
        self.assertIn(os.path.basename(__file__), message)

    def test_lstm_forms_that_are_refused(self):
        cases = {"batch_first=False": dict(batch_first=False),
                 "bidirectional": dict(batch_first=True, bidirectional=True),
                 "proj_size": dict(batch_first=True, proj_size=2)}
        for expected, kwargs in cases.items():
            with self.subTest(expected):
                message = self.export_error(Lstm(**kwargs), torch.randn(2, 3, 3))
                self.assertIn("'aten::lstm' (Lstm/lstm)", message)
                self.assertIn(expected.split("=")[0], message)

    def test_layer_norm_over_two_dims(self):
        message = self.export_error(nn.LayerNorm([3, 4]), torch.randn(2, 3, 4))
        self.assertIn("'aten::layer_norm'", message)
        self.assertIn("last dimension", message)

    def test_batch_size_used_as_a_number(self):
        message = self.export_error(Lambda(lambda x: x * x.shape[0]), torch.randn(2, 3))
        self.assertIn("'aten::mul'", message)
        self.assertIn("batch size", message)

    def test_batch_dependent_zeros_outside_an_lstm(self):
        message = self.export_error(Lambda(lambda x: torch.zeros(x.shape[0], 3) + x),
                                    torch.randn(2, 3))
        self.assertIn("torch.zeros", message)

    def test_product_of_two_inputs_is_not_a_linear(self):
        message = self.export_error(Lambda(lambda x, w: x @ w),
                                    (torch.randn(2, 3), torch.randn(3, 4)))
        self.assertIn("'aten::matmul'", message)
        self.assertIn("constant", message)

    def test_division_by_a_tensor(self):
        message = self.export_error(Lambda(lambda x, y: x / y), (torch.randn(2, 3),
                                                                 torch.randn(2, 3)))
        self.assertIn("'aten::div'", message)

    def test_integer_inputs(self):
        message = self.export_error(Lambda(lambda x: x + 1), torch.ones(2, 3, dtype=torch.int64))
        self.assertIn("float32", message)

    def test_wrong_number_of_names(self):
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(qrt_torch.ExportError):
                qrt_torch.export(Lambda(torch.relu), torch.randn(2, 3), os.path.join(d, "m.qrt"),
                                 output_names=["a", "b"])

    def test_model_mode_is_restored(self):
        model = MyModel().train()
        self.export_error(model, torch.randn(2, 3, 5))
        self.assertTrue(model.training)


if __name__ == "__main__":
    unittest.main()
