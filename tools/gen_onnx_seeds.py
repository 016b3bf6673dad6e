#!/usr/bin/python3
"""Tiny torchvision-architecture ONNX files (a few KB each) for the fuzz
seed corpus (tests/fuzz/corpus/onnx) and the test fixture
(tests/fixtures/onnx). Committed outputs; rerun only to refresh them:

    /usr/bin/python3 tools/gen_onnx_seeds.py

torch.onnx.export (Debian torch 1.13) of: an EfficientNet with two tiny
MBConv stages (+ a FusedMBConv variant), a MobileNetV3 with two tiny
inverted-residual blocks (SE, hard-swish), at opsets 11, 13 and 17; one
export keeps BatchNormalization (training=PRESERVE) and one ends in Softmax.
"""
import os
import sys

import torch
import torch.nn as nn
from torchvision.models import efficientnet as tv_eff
from torchvision.models import mobilenetv3 as tv_mv3

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_effnet(fused=False):
    torch.manual_seed(0)
    if fused:
        cfg = [tv_eff.FusedMBConvConfig(1, 3, 1, 8, 8, 1), tv_eff.MBConvConfig(2, 3, 2, 8, 16, 1)]
    else:
        cfg = [tv_eff.MBConvConfig(1, 3, 1, 8, 8, 1), tv_eff.MBConvConfig(2, 5, 2, 8, 16, 1)]
    return tv_eff._efficientnet(cfg, 0.2, 32, None, False, num_classes=4).eval()


def tiny_mnv3():
    torch.manual_seed(0)
    cfg = [tv_mv3.InvertedResidualConfig(8, 3, 8, 8, True, "RE", 2, 1, 1.0),
           tv_mv3.InvertedResidualConfig(8, 3, 16, 8, True, "HS", 2, 1, 1.0)]
    return tv_mv3.MobileNetV3(cfg, last_channel=16, num_classes=4).eval()


class WithSoftmax(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.features, self.avgpool, self.classifier = m.features, m.avgpool, m.classifier

    def forward(self, x):
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return torch.softmax(self.classifier(x), 1)


def export(model, path, opset, **kw):
    torch.onnx.export(model, torch.zeros(1, 3, 32, 32), path, opset_version=opset, input_names=["input"],
                      output_names=["logits"], **kw)
    n = os.path.getsize(path)
    if n > 30 * 1024:
        raise SystemExit("%s: %d bytes > 30 KB" % (path, n))
    print("%-60s %6d bytes" % (os.path.relpath(path, REPO), n))


def main():
    corpus = os.path.join(REPO, "tests", "fuzz", "corpus", "onnx")
    fix = os.path.join(REPO, "tests", "fixtures", "onnx")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(fix, exist_ok=True)
    export(tiny_effnet(), os.path.join(fix, "tiny_effnet_op13.onnx"), 13)
    export(tiny_effnet(), os.path.join(corpus, "effnet_op11.onnx"), 11)
    export(tiny_effnet(), os.path.join(corpus, "effnet_op17_bn.onnx"), 17, training=torch.onnx.TrainingMode.PRESERVE,
           do_constant_folding=False)
    export(tiny_effnet(fused=True), os.path.join(corpus, "effnet_fused_op13.onnx"), 13)
    export(tiny_mnv3(), os.path.join(corpus, "mnv3_op13.onnx"), 13)
    export(tiny_mnv3(), os.path.join(corpus, "mnv3_op17.onnx"), 17)
    export(WithSoftmax(tiny_effnet()), os.path.join(corpus, "effnet_softmax_op13.onnx"), 13)


if __name__ == "__main__":
    sys.exit(main())
