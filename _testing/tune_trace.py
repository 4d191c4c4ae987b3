"""A 12-step `tune` training trace from the reference implementation's own `lpips.Trainer`
(PerceptualSimilarity 082bb24, unmodified): what `train.py --train_trunk` runs, on AlexNet v0.1,
for lpips/train/tune_trace_test.ts.

The set-up is the test data's 12-step `lin` trace (bapps-mini/training_trace/README.md) with the
trunk trained too: the same random initial heads and ranking net (`init/`), the pretrained
AlexNet trunk with `pnet_tune=True`, Adam (lr 1e-4, betas 0.5 and 0.999) over every parameter,
the 1x1 clamp after each step, `2afc/train/traditional` in file order in batches of 50 (the
reference's `TwoAFCDataset`, not shuffled; steps 7-12 repeat steps 1-6), dropout off.

Per step it keeps the loss, the accuracy, d0, d1 and the ranking net's output (50 each); after
step 12, per trainable tensor (our key: `features.{j}...`, `lin{k}.model.1.weight`,
`rank.model.{i}...`) its sum, the sum of absolute values and the values at 16 fixed positions
(C-order index i * 7919 * 104729 mod size, i = 0..15), as plain numbers.

Command (Debian python3-torch, python3-torchvision, python3-skimage; /usr/bin/python3):
    /usr/bin/python3 _testing/tune_trace.py _testing/tune_trace.json   (test data: $LPIPS_TEST_DATA)
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_lpips import SHARED, lpips, torch  # noqa: E402
from data import data_loader as dl  # noqa: E402  (the reference's loader)

SAMPLES = 16
TRACE = os.path.join(SHARED, "bapps-mini", "training_trace")

trainer = lpips.Trainer()
trainer.initialize(model="lpips", net="alex", use_gpu=False, is_train=True, pnet_rand=False,
                   pnet_tune=True, lr=1e-4, beta1=0.5, version="0.1")
net = trainer.net
with torch.no_grad():
    for k in range(5):
        w = np.load(os.path.join(TRACE, "init", "lin%d.model.1.weight.npy" % k))
        getattr(net, "lin%d" % k).model[1].weight.copy_(torch.from_numpy(w))
    for key, p in trainer.rankLoss.net.named_parameters():
        p.copy_(torch.from_numpy(np.load(os.path.join(TRACE, "init", "rank.%s.npy" % key))))
for m in net.modules():
    if isinstance(m, torch.nn.Dropout):
        m.eval()

loader = dl.CreateDataLoader(["train/traditional"], dataroot=os.path.join(SHARED, "bapps-mini"),
                             dataset_mode="2afc", batch_size=50, serial_batches=True, nThreads=0)
batches = list(loader.load_data())
assert len(batches) == 6, len(batches)

flat = lambda t: [float(v) for v in t.detach().reshape(-1).numpy()]
steps = []
for s in range(12):
    trainer.set_input(batches[s % 6])
    trainer.optimize_parameters()
    steps.append({
        "loss": float(trainer.loss_total.item()),
        "accuracy": float(trainer.acc_r.mean()),
        "d0": flat(trainer.d0),
        "d1": flat(trainer.d1),
        "output": flat(trainer.rankLoss.logit),
    })


def ours(key):
    parts = key.split(".")
    if parts[0] == "net":  # net.slice{i}.{j}.weight -> features.{j}.weight
        return "features." + ".".join(parts[2:])
    return key


tensors = {}
named = [(ours(k), p) for k, p in net.named_parameters() if k.split(".")[0] in ("net",) or k.startswith("lin")]
named += [("rank." + k, p) for k, p in trainer.rankLoss.net.named_parameters()]
for key, p in named:
    v = p.detach().reshape(-1).numpy().astype(np.float64)
    at = [(i * 7919 * 104729) % v.size for i in range(SAMPLES)]
    tensors[key] = {"sum": float(v.sum()), "abs_sum": float(np.abs(v).sum()),
                    "at": at, "values": [float(v[i]) for i in at]}

with open(sys.argv[1], "w") as out:
    json.dump({
        "command": "/usr/bin/python3 _testing/tune_trace.py _testing/tune_trace.json",
        "torch": torch.__version__,
        "net": "alex", "version": "0.1", "mode": "tune", "dropout": False,
        "steps": steps,
        "after_step12": tensors,
    }, out)
    out.write("\n")
