"""Every explorer, defined once: its class, the sections that show it, how they build it,
the control its redraw benchmark moves, and what the website needs to compute it.

The browser tests, the redraw benchmark and the website's build read this list; none of
them lists explorers by hand. ``tests/test_explorer_registry.py`` holds it true to the
code: every :class:`~cnnlib.widgets.live.LiveExplorer` subclass in this package is here, and
every explorer a chapter builds (``name = SomeExplorer(...)``) is here under that chapter.

``build`` makes the explorer as its chapter does, from the same inputs (the notes'
tensors, the shipped weights). A chapter that builds it from a variable of its own
(``ConvStepExplorer(X, K, ...)``) uses the same values that ``build`` names here.

``computes_with`` says what the explorer's website version needs to compute in the reader's
browser (issue 21): ``"ops"`` for the chapter-7 operations of ``cnnlib/web/cnn-ops.js``,
``"network:<name>"`` for a shipped network run with onnxruntime-web, ``"recorded"`` for an
explorer whose numbers come from a table PyTorch recorded for every setting its controls
allow (a training run, or gradients through PyTorch's random initialisation, which a
browser cannot reproduce): the page looks them up and computes the rest;
``"weights:<name>"`` for a shipped network whose layers the page runs in JavaScript with
the weights Python sends (where the export cannot compute what the explorer shows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cnnlib.models.pretrained import SHIPPED, pretrained
from cnnlib.widgets.bn_stats import ActivationStatsExplorer, BatchStatsExplorer
from cnnlib.widgets.channels import ChannelsExplorer, notes_tensors
from cnnlib.widgets.compare_stages import StageComparisonExplorer
from cnnlib.widgets.conv_steps import NOTES_K, NOTES_X, ConvStepExplorer
from cnnlib.widgets.dense_vs_conv import ParameterCountExplorer, ShiftExplorer
from cnnlib.widgets.feature_maps import FeatureMapExplorer, trained_lenet
from cnnlib.widgets.grad_cam import GradCamExplorer
from cnnlib.widgets.grad_flow import GradientFlowExplorer
from cnnlib.widgets.inception import InceptionExplorer
from cnnlib.widgets.kernel_explorer import KernelExplorer
from cnnlib.widgets.live import LiveExplorer
from cnnlib.widgets.nin_maps import NiNClassMapExplorer, NiNPixelExplorer
from cnnlib.widgets.padding_stride import PaddingStrideExplorer
from cnnlib.widgets.pooling import PoolingExplorer
from cnnlib.widgets.receptive_field import ReceptiveFieldExplorer
from cnnlib.widgets.vgg_blocks import VGGBlockExplorer


@dataclass(frozen=True)
class ExplorerEntry:
    """One explorer.

    Attributes:
        cls: the explorer's class.
        sections: the chapter stems that show it (``"7_2_conv_images"``).
        build: makes it as those chapters do.
        redraw: the control the redraw benchmark moves, and the two values it moves
            between (``None``: a menu's first two options).
        computes_with: what its website version computes with (see the module docstring).
    """

    cls: type[LiveExplorer]
    sections: tuple[str, ...]
    build: Callable[[], LiveExplorer]
    redraw: tuple[str, tuple | None]
    computes_with: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.cls.__name__

    def __post_init__(self) -> None:
        # One explorer, one definition: an explorer without a front-end has no website form.
        if not (isinstance(self.cls, type) and issubclass(self.cls, LiveExplorer)):
            raise TypeError(f"{self.cls!r} is not a LiveExplorer: every explorer has one "
                            "front-end (cnnlib/widgets/live.py)")

    def networks(self) -> tuple[str, ...]:
        """The shipped networks its website version runs (``"lenet"``, ...)."""
        return tuple(c.split(":", 1)[1] for c in self.computes_with if c.startswith("network:"))


EXPLORERS: tuple[ExplorerEntry, ...] = (
    ExplorerEntry(ParameterCountExplorer, ("7_1_fc_to_conv",),
                  lambda: ParameterCountExplorer(side=224, kernel=3, c_in=3, c_out=64),
                  ("side", (28, 224)), ("ops",)),
    ExplorerEntry(ShiftExplorer, ("7_1_fc_to_conv",), ShiftExplorer, ("dx", (3, -3)), ("ops",)),
    ExplorerEntry(KernelExplorer, ("7_2_conv_images",), KernelExplorer,
                  ("input_choice", None), ("ops",)),
    ExplorerEntry(PaddingStrideExplorer, ("7_3_padding_stride",),
                  lambda: PaddingStrideExplorer(input_size=8, kernel_size=3, padding=1, stride=2),
                  ("padding", (0, 2)), ("ops",)),
    ExplorerEntry(ConvStepExplorer, ("7_3_padding_stride",),
                  lambda: ConvStepExplorer(NOTES_X, NOTES_K, padding=1, stride=2),
                  ("step", (0, 3)), ("ops",)),
    ExplorerEntry(ChannelsExplorer, ("7_4_channels",),
                  lambda: ChannelsExplorer(*notes_tensors()), ("out_channel", (0, 2)), ("ops",)),
    ExplorerEntry(PoolingExplorer, ("7_5_pooling",), PoolingExplorer, ("stride", (1, 2)),
                  ("ops",)),
    ExplorerEntry(ReceptiveFieldExplorer, ("7_5_pooling",),
                  lambda: ReceptiveFieldExplorer(input_size=12), ("row", (0, 1)), ("ops",)),
    ExplorerEntry(FeatureMapExplorer, ("7_6_lenet",),
                  lambda: FeatureMapExplorer(model=trained_lenet()), ("example", (0, 19)),
                  ("network:lenet",)),
    ExplorerEntry(StageComparisonExplorer, ("8_1_alexnet",),
                  lambda: StageComparisonExplorer(lenet=pretrained("lenet"),
                                                  alexnet=pretrained("alexnet")),
                  ("example", (0, 1)), ("network:lenet", "network:alexnet")),
    ExplorerEntry(VGGBlockExplorer, ("8_2_vgg",),
                  lambda: VGGBlockExplorer(model=pretrained("vgg11")), ("block", (1, 3)),
                  ("network:vgg11",)),
    ExplorerEntry(NiNPixelExplorer, ("8_3_nin",),
                  lambda: NiNPixelExplorer(model=pretrained("nin")), ("example", (0, 1)),
                  ("network:nin",)),
    ExplorerEntry(NiNClassMapExplorer, ("8_3_nin",),
                  lambda: NiNClassMapExplorer(model=pretrained("nin")), ("example", (0, 1)),
                  ("network:nin",)),
    ExplorerEntry(InceptionExplorer, ("8_4_googlenet",),
                  lambda: InceptionExplorer(model=pretrained("googlenet")), ("example", (0, 1)),
                  ("network:googlenet",)),
    # A recorded training run (cnnlib/weights/bn_snapshots.json): replayed, not computed.
    ExplorerEntry(ActivationStatsExplorer, ("8_5_batch_norm",), ActivationStatsExplorer,
                  ("layer", None), ("recorded",)),
    # Training-mode batch norm, which the ONNX export (evaluation mode) cannot compute: the
    # page runs BN-LeNet's layers in JavaScript with the shipped weights Python sends.
    ExplorerEntry(BatchStatsExplorer, ("8_5_batch_norm",),
                  lambda: BatchStatsExplorer(model=pretrained("bn_lenet")), ("mode", None),
                  ("ops", "weights:bn_lenet")),
    # Gradients of freshly initialised networks, recorded by PyTorch for every setting the
    # controls allow (cnnlib/weights/grad_flow_table.json): looked up, not computed.
    ExplorerEntry(GradientFlowExplorer, ("8_6_resnet",), GradientFlowExplorer,
                  ("seed", (0, 1)), ("recorded",)),
    ExplorerEntry(GradCamExplorer, ("8_6_resnet",),
                  lambda: GradCamExplorer(model=pretrained("resnet18")), ("example", (0, 1)),
                  ("network:resnet18",)),
)

_BY_NAME = {entry.name: entry for entry in EXPLORERS}


def entry(name: str) -> ExplorerEntry:
    """The entry of the explorer class called ``name``.

    Raises:
        KeyError: for a name that is not registered (the message lists the names).
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no explorer called {name!r}; registered: {', '.join(_BY_NAME)}"
                       ) from None


def in_section(stem: str) -> tuple[ExplorerEntry, ...]:
    """The explorers the chapter ``stem`` shows, in registry order."""
    return tuple(e for e in EXPLORERS if stem in e.sections)


def website_networks() -> tuple[str, ...]:
    """The shipped networks the website's explorers run, each once, in registry order."""
    names = dict.fromkeys(n for e in EXPLORERS for n in e.networks())
    unknown = set(names) - set(SHIPPED)
    if unknown:  # a typo here would otherwise surface only as a missing file on the site
        raise ValueError(f"explorers name networks without shipped weights: {sorted(unknown)}")
    return tuple(names)
