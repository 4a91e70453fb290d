"""``nianbao demo`` and the made-up data it plays on: the steps (:mod:`~toolkit.demo.steps`),
made-up reports that pass every rule (:mod:`~toolkit.demo.synthetic`), and a whole round on
them (:mod:`~toolkit.demo.round`). Nothing of a real round depends on this package."""

from toolkit.demo.steps import STEPS, DemoContext, DemoResult, Step, StepResult, run_demo, samples_dir

__all__ = ["STEPS", "DemoContext", "DemoResult", "Step", "StepResult", "run_demo", "samples_dir"]
