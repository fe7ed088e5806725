"""Per-class diagnostic metrics with 95% confidence intervals, scan by scan.

Plain Python, NumPy and SciPy: no Django, no Keras, so services, `bench/` and notebooks share it.

Vocabulary
- A confusion matrix counts scans: `tp` (reference positive, predicted positive), `fp`, `tn`, `fn`.
- Every figure is an `Estimate`: the point value, the interval's bounds, the confidence level and
  the `method` that produced the interval, so a report always says how it was computed.
- Proportions (sensitivity, specificity, precision, NPV, accuracy) take the Wilson score interval by
  default, or Clopper-Pearson's exact interval (`method="clopper-pearson"`).
- F1 is no binomial proportion; its interval is a seeded percentile bootstrap that resamples the
  four cells of the matrix from a multinomial with the observed cell frequencies.
- AUROC takes DeLong's interval, computed with the O(n log n) midrank algorithm of Sun & Xu (2014),
  or a seeded bootstrap that resamples positives and negatives separately (stratified).
- A threshold is chosen on validation scores (Youden's J or a target sensitivity) and is then
  applied unchanged to test scores: a scan is positive when its score is >= the threshold.
- `class_report` gives one `ClassReportRow` per hemorrhage class (any, IPH, IVH, SAH, SDH, EDH),
  with the columns of the reference paper's Table 2 (Alis et al. 2022) plus NPV and F1.
- Saliency maps are scored against lesion masks in `localization`: the pointing game (with a
  tolerance in mm), the energy-based pointing game and the deletion AUC, summarised per method and
  subtype with a Wilson interval for the hit rate and `mean_ci` (Student's t or a bootstrap) for
  the means.
- Readers' 4-point Likert scores of the saliency maps of two methods are compared in `likert`:
  per reader and method the mean (t interval), SD, median and score counts; per reader and
  pooled the Mann-Whitney U test (rank-biserial effect size) and the Wilcoxon signed-rank test
  on the paired cases (Pratt's zeros); Krippendorff's ordinal alpha among the readers.

Undefined figures (a sensitivity without reference positives, an AUROC with one class only) are NaN,
never an exception; malformed input (negative counts, labels other than 0/1, non-finite scores,
arrays of different lengths) raises `ValueError` with a message.
"""

from annotations.vocabulary import HEMORRHAGE_CLASSES
from modelops.metrics.estimates import (
    AUROC_METHODS,
    BOOTSTRAP,
    CLOPPER_PEARSON,
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    DELONG,
    PROPORTION_METHODS,
    WILSON,
    Estimate,
)
from modelops.metrics.estimates import _check_confidence as _check_confidence
from modelops.metrics.estimates import _json_number as _json_number
from modelops.metrics.estimates import _nan_estimate as _nan_estimate
from modelops.metrics.estimates import _z as _z
from modelops.metrics.likert import (
    LIKERT_LABELS,
    LIKERT_SCORES,
    WILCOXON_ZERO_METHOD,
    LikertAgreement,
    LikertMannWhitney,
    LikertResults,
    LikertScore,
    LikertSummaryRow,
    LikertWilcoxon,
    likert_results,
)
from modelops.metrics.localization import (
    DEFAULT_DELETION_STEPS,
    DEFAULT_TOLERANCE_MM,
    MEAN_METHODS,
    T_INTERVAL,
    LocalizationScore,
    LocalizationSummaryRow,
    curve_auc,
    deletion_auc,
    deletion_curve,
    deletion_order,
    energy_pointing_game,
    localization_summary,
    mean_ci,
    pointing_game,
)
from modelops.metrics.proportions import (
    BinaryMetrics,
    ConfusionMatrix,
    binary_metrics,
    f1_ci,
    proportion_ci,
)
from modelops.metrics.proportions import _f1 as _f1
from modelops.metrics.proportions import _labels as _labels
from modelops.metrics.report import ClassReportRow, class_report, report_row
from modelops.metrics.roc import RocCurve, auroc_ci, auroc_point, delong_auc_variance, roc_curve
from modelops.metrics.roc import _auc_midrank as _auc_midrank
from modelops.metrics.roc import _scored as _scored
from modelops.metrics.thresholds import (
    TARGET_SENSITIVITY,
    YOUDEN,
    Threshold,
    choose_threshold,
    choose_thresholds,
)

__all__ = [
    "AUROC_METHODS",
    "BOOTSTRAP",
    "CLOPPER_PEARSON",
    "DEFAULT_CONFIDENCE",
    "DEFAULT_DELETION_STEPS",
    "DEFAULT_RESAMPLES",
    "DEFAULT_SEED",
    "DEFAULT_TOLERANCE_MM",
    "DELONG",
    "HEMORRHAGE_CLASSES",
    "LIKERT_LABELS",
    "LIKERT_SCORES",
    "MEAN_METHODS",
    "PROPORTION_METHODS",
    "TARGET_SENSITIVITY",
    "T_INTERVAL",
    "WILCOXON_ZERO_METHOD",
    "WILSON",
    "YOUDEN",
    "BinaryMetrics",
    "ClassReportRow",
    "ConfusionMatrix",
    "Estimate",
    "LikertAgreement",
    "LikertMannWhitney",
    "LikertResults",
    "LikertScore",
    "LikertSummaryRow",
    "LikertWilcoxon",
    "LocalizationScore",
    "LocalizationSummaryRow",
    "RocCurve",
    "Threshold",
    "auroc_ci",
    "auroc_point",
    "binary_metrics",
    "choose_threshold",
    "choose_thresholds",
    "class_report",
    "curve_auc",
    "deletion_auc",
    "deletion_curve",
    "deletion_order",
    "delong_auc_variance",
    "energy_pointing_game",
    "f1_ci",
    "likert_results",
    "localization_summary",
    "mean_ci",
    "pointing_game",
    "proportion_ci",
    "report_row",
    "roc_curve",
]
