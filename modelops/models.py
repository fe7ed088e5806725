"""Datasets, training runs and model versions.

DatasetSnapshot
    An immutable export of a frozen ground-truth version: its scans' slices preprocessed (the
    paper's three windows, resized, resampled to 5 mm) into memory-mapped arrays per split
    (``modelops/ml/snapshot_format.py``). ``key_sha256`` hashes what defines it (the version's
    content hash, the preprocessing, the format), so asking twice for the same snapshot returns
    the one already built; ``files_sha256`` hashes what was written, for reproducibility checks.
TrainingRun
    One training of the CNN-RNN on a snapshot with a validated configuration, run by a Celery
    worker on the ``train`` queue; from scratch, or end-to-end fine-tuning of a registered
    model (``initial_model``). The worker sends heartbeats; a run whose worker died is
    resumed from its last epoch checkpoint (``attempts`` counts the tries) or failed.
ModelVersion
    A trained model: the run and snapshot it came from, its artifact and checksum, its
    evaluation report (the paper's Table 2 layout) and its status in the registry.
SaliencyRun, SaliencySlice, SaliencyMap
    NormGrad and Grad-CAM maps of a model version for a seeded sample of hemorrhage-positive
    slices of one split (a job), one sampled slice per scan, each with both maps and, where the
    slice's lesion is outlined, how well each map points at it. A map is known outside the ML
    engineer's pages by its token alone, which says nothing of the method that made it.
ScanSaliencyRun
    Both methods' maps of every slice of one scan for one class of a model version (a job),
    scaled over the scan: the overlay of the viewer. Computed once per model, scan and class.
ModelBuild
    An approved model version packaged for the inference nodes (a job): the model as ONNX checked
    against Keras, a test scan with its expected scores, and a manifest signed with Ed25519.
    Build numbers only grow.
EdgeNode, Rollout
    The inference nodes beside the sites' PACS: enrolment with a one-time token for a node token
    (both stored hashed), the node's last heartbeat, the build it should run; a rollout takes a
    build to one canary node, then to the rest once the canary runs it healthy, and can be
    rolled back.
ModelOutputRelease
    A coordinator's release of a model version's output (its maps and scores) for one scan to
    the readers of that scan; until then nothing of the model reaches a reader.
ModelScanScore, ScanScoringRun
    A model version's scan-level score of every class for one scan: stored for every scan of
    its snapshot when the version is registered (with the scan's split there), and for other
    scans by a scoring run (a job), split "". What the disagreement list and the assignment by
    model uncertainty read; never shown to a reader.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact

from annotations.models import Center, GroundTruthVersion, ImportBatch, Scan, Slice, Split
from annotations.vocabulary import HEMORRHAGE_CLASSES, SUBTYPES
from ichlabel.jobs.models import ACTIVE_STATUSES, Job  # noqa: F401 (ACTIVE_STATUSES re-exported)


class DatasetSnapshot(Job):
    """A job (``ichlabel.jobs.Job``); ``progress`` is ``scans_done / scans_total``."""

    ground_truth = models.ForeignKey(
        GroundTruthVersion, on_delete=models.PROTECT, related_name="snapshots"
    )
    name = models.CharField(max_length=100)
    image_size = models.PositiveIntegerField()
    slice_mm = models.FloatField()
    windows = models.JSONField()
    key_sha256 = models.CharField(max_length=64, unique=True)
    scans_done = models.PositiveIntegerField(default=0)
    scans_total = models.PositiveIntegerField(default=0)
    directory = models.CharField(max_length=255, blank=True, help_text="Under DATA_DIR")
    manifest = models.JSONField(default=dict, blank=True)
    files_sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(Job.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            *Job.Meta.constraints,
            models.CheckConstraint(
                condition=Q(image_size__gte=32, image_size__lte=1024),
                name="snapshot_image_size_range",
            ),
            models.CheckConstraint(condition=Q(slice_mm__gt=0), name="snapshot_slice_mm_positive"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | ~Q(files_sha256=""),
                name="snapshot_succeeded_has_files",
            ),
        ]

    def __str__(self) -> str:
        return f"Snapshot {self.pk} {self.name}"


class TrainingRun(Job):
    """A job (``ichlabel.jobs.Job``), the resumable kind; ``progress`` is the share of all
    epochs of all stages done, ``stage``, ``epoch`` and ``step`` say where it is."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    snapshot = models.ForeignKey(
        DatasetSnapshot, on_delete=models.PROTECT, related_name="training_runs"
    )
    config = models.JSONField(help_text="A validated TrainingConfig")
    initial_model = models.ForeignKey(
        "ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fine_tuned_runs",
        help_text="End-to-end fine-tuning starts from this model's weights",
    )
    stage = models.CharField(max_length=16, blank=True)
    epoch = models.PositiveIntegerField(default=0, help_text="Epochs done in the current stage")
    epochs = models.PositiveIntegerField(default=0, help_text="Epochs of the current stage")
    step = models.PositiveIntegerField(default=0)
    steps = models.PositiveIntegerField(default=0)
    history = models.JSONField(default=list, blank=True, help_text="One entry per epoch")
    step_losses = models.JSONField(default=list, blank=True, help_text="[stage, epoch, step, loss]")
    resumed_from = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(Job.Meta):
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"Training run {self.name} ({self.status})"


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    APPROVED = "approved", "Approved"
    RETIRED = "retired", "Retired"


class ModelVersion(models.Model):
    name = models.CharField(max_length=100, unique=True)
    run = models.OneToOneField(TrainingRun, on_delete=models.PROTECT, related_name="model_version")
    snapshot = models.ForeignKey(
        DatasetSnapshot, on_delete=models.PROTECT, related_name="model_versions"
    )
    artifact = models.CharField(max_length=255, help_text="The .keras file, under DATA_DIR")
    artifact_sha256 = models.CharField(max_length=64)
    artifact_bytes = models.BigIntegerField()
    config = models.JSONField()
    metrics = models.JSONField(default=dict, help_text="Headline figures per split and class")
    evaluation = models.JSONField(default=dict, help_text="The full evaluation report")
    status = models.CharField(
        max_length=16, choices=ModelStatus.choices, default=ModelStatus.CANDIDATE
    )
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ModelStatus.values), name="model_version_status_valid"
            ),
            models.CheckConstraint(
                condition=Exact(Length("artifact_sha256"), 64),
                name="model_version_artifact_checksum",
            ),
        ]

    def __str__(self) -> str:
        return f"Model {self.name} ({self.status})"


SALIENCY_MAX_PER_SUBTYPE = 1000


class SaliencyMethod(models.TextChoices):
    NORMGRAD = "normgrad", "NormGrad"
    GRADCAM = "gradcam", "Grad-CAM"


class SaliencyRun(Job):
    """A job (``ichlabel.jobs.Job``): up to ``per_subtype`` positive slices per subtype of one
    split of the model's ground truth, sampled with ``seed``; ``progress`` is
    ``slices_done / slices_total``. One run per model version, split, size and seed: asking
    again gives the same run, so maps are computed once."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="saliency_runs"
    )
    split = models.CharField(max_length=16, choices=Split.choices)
    per_subtype = models.PositiveIntegerField()
    seed = models.PositiveIntegerField(default=0)
    slices_total = models.PositiveIntegerField(default=0)
    slices_done = models.PositiveIntegerField(default=0)
    localization = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(Job.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            *Job.Meta.constraints,
            models.UniqueConstraint(
                fields=["model_version", "split", "per_subtype", "seed"],
                name="saliency_run_once_per_sample",
            ),
            models.CheckConstraint(
                condition=Q(per_subtype__gte=1, per_subtype__lte=SALIENCY_MAX_PER_SUBTYPE),
                name="saliency_run_per_subtype_range",
            ),
            models.CheckConstraint(
                condition=Q(split__in=Split.values), name="saliency_run_split_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Saliency run {self.pk} of {self.model_version_id}"


class SaliencySlice(models.Model):
    """One sampled slice and the subtype it was sampled for; ``score`` is the model's
    slice-level score of that subtype, the output whose gradient made the maps."""

    run = models.ForeignKey(SaliencyRun, on_delete=models.CASCADE, related_name="slices")
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="+")
    slice = models.ForeignKey(Slice, on_delete=models.PROTECT, related_name="+")
    subtype = models.CharField(max_length=8)
    position = models.PositiveIntegerField(help_text="Order in the sample")
    score = models.FloatField(null=True, blank=True)
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "scan"], name="saliency_slice_one_per_scan"),
            models.UniqueConstraint(fields=["run", "position"], name="saliency_slice_position"),
            models.CheckConstraint(
                condition=Q(subtype__in=SUBTYPES), name="saliency_slice_subtype_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Saliency slice {self.position} of run {self.run_id}"


class SaliencyMap(models.Model):
    """One method's map of a sampled slice. Its files (the float16 map and the PNG overlay)
    are named by ``token``; the localization figures are empty where the slice has no lesion
    outline."""

    item = models.ForeignKey(SaliencySlice, on_delete=models.CASCADE, related_name="maps")
    method = models.CharField(max_length=16, choices=SaliencyMethod.choices)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pointing_hit = models.BooleanField(null=True, blank=True)
    energy_inside = models.FloatField(null=True, blank=True)
    deletion_auc = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["item", "method"]
        constraints = [
            models.UniqueConstraint(fields=["item", "method"], name="saliency_map_one_per_method"),
            models.CheckConstraint(
                condition=Q(method__in=SaliencyMethod.values), name="saliency_map_method_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Saliency map {self.token}"


class ScanSaliencyRun(Job):
    """A job (``ichlabel.jobs.Job``): NormGrad and Grad-CAM maps of every slice of ``scan``,
    from the gradient of the model's scan-level score of ``label``, scaled over the scan.
    ``scores`` holds the model's scan-level score of every class. Files:
    ``modelops.scan_saliency.selectors.scan_saliency_dir``."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="scan_saliency_runs"
    )
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=8)
    scores = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(Job.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            *Job.Meta.constraints,
            models.UniqueConstraint(
                fields=["model_version", "scan", "label"], name="scan_saliency_once_per_class"
            ),
            models.CheckConstraint(
                condition=Q(label__in=HEMORRHAGE_CLASSES), name="scan_saliency_label_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Scan maps {self.pk} ({self.label}) of scan {self.scan_id}"


class ModelBuild(Job):
    """A job (``ichlabel.jobs.Job``) that writes the build's files (``modelops.builds``); when
    it succeeds, ``manifest`` is what was signed and ``signature`` its Ed25519 signature."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="builds")
    number = models.PositiveIntegerField(unique=True)
    expires_at = models.DateTimeField()
    manifest = models.JSONField(default=dict, blank=True)
    signature = models.TextField(blank=True)
    key_id = models.CharField(max_length=16, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(Job.Meta):
        ordering = ["-number"]
        constraints = [
            *Job.Meta.constraints,
            models.CheckConstraint(condition=Q(number__gte=1), name="model_build_number_positive"),
        ]

    def __str__(self) -> str:
        return f"Build {self.number} of {self.model_version_id}"


class NodeHealth(models.TextChoices):
    NEW = "new", "Not enrolled"
    OK = "ok", "Healthy"
    DEGRADED = "degraded", "Degraded"
    FAILING = "failing", "Failing"


class EdgeNode(models.Model):
    """An inference node at a site. Its tokens are stored as SHA-256 hashes only: the one-time
    enrolment token until the node enrols, then the node token (revoking it clears it)."""

    name = models.CharField(max_length=64, unique=True)
    center = models.ForeignKey(Center, on_delete=models.PROTECT, related_name="edge_nodes")
    enrolment_token_hash = models.CharField(max_length=64, blank=True)
    token_hash = models.CharField(max_length=64, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    hardware = models.JSONField(default=dict, blank=True)
    desired_build = models.ForeignKey(
        ModelBuild, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    active_build = models.PositiveIntegerField(null=True, blank=True)
    previous_build = models.PositiveIntegerField(null=True, blank=True)
    health = models.CharField(max_length=16, choices=NodeHealth.choices, default=NodeHealth.NEW)
    heartbeat = models.JSONField(default=dict, blank=True, help_text="The last heartbeat's body")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["token_hash"], condition=~Q(token_hash=""), name="edge_node_token_unique"
            ),
            models.UniqueConstraint(
                fields=["enrolment_token_hash"],
                condition=~Q(enrolment_token_hash=""),
                name="edge_node_enrolment_token_unique",
            ),
            models.CheckConstraint(
                condition=Q(health__in=NodeHealth.values), name="edge_node_health_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Node {self.name}"


class RolloutStatus(models.TextChoices):
    CANARY = "canary", "On the canary"
    EXPANDED = "expanded", "On every node"
    ROLLED_BACK = "rolled_back", "Rolled back"


class Rollout(models.Model):
    """``build`` to the ``canary`` node first; to every other enrolled node once the canary
    reports it active and healthy; ``previous`` per node is what a rollback restores."""

    build = models.ForeignKey(ModelBuild, on_delete=models.PROTECT, related_name="rollouts")
    canary = models.ForeignKey(EdgeNode, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=RolloutStatus.choices, default=RolloutStatus.CANARY
    )
    previous = models.JSONField(default=dict, help_text="Node id -> desired build id before")
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RolloutStatus.values), name="rollout_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Rollout of build {self.build_id}"


class Prediction(models.Model):
    """A node's result for one series, reported once (``key``: the node's idempotency key, so
    a result sent again after a lost answer is recorded once). ``error`` says why a series the
    rules chose could not be scored; then there are no scores."""

    node = models.ForeignKey(EdgeNode, on_delete=models.PROTECT, related_name="predictions")
    build = models.ForeignKey(ModelBuild, on_delete=models.PROTECT, related_name="predictions")
    key = models.CharField(max_length=64)
    series_link = models.CharField(
        max_length=40,
        blank=True,
        db_index=True,
        help_text="The series' link (annotations/dicom/link.py): its scan once imported",
    )
    scores = models.JSONField(default=dict, blank=True, help_text="Scan score per class")
    decision = models.JSONField(default=dict, blank=True, help_text="Class -> positive")
    slice_scores = models.JSONField(default=list, blank=True)
    thresholds = models.JSONField(default=dict, blank=True)
    timings_ms = models.JSONField(default=dict, blank=True, help_text="Stage -> milliseconds")
    error = models.TextField(blank=True)
    scored_at = models.DateTimeField(help_text="When the node finished, by its clock")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-scored_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["node", "key"], name="prediction_once_per_key"),
        ]
        indexes = [models.Index(fields=["node", "scored_at"])]

    def __str__(self) -> str:
        return f"Prediction {self.key} of {self.node_id}"


class NodeSeriesUpload(models.Model):
    """A series a node sent for import into its center (the prospective set): once per node
    and series link, however often it is sent."""

    node = models.ForeignKey(EdgeNode, on_delete=models.PROTECT, related_name="series_uploads")
    series_link = models.CharField(max_length=40)
    batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    files = models.PositiveIntegerField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["node", "series_link"], name="node_series_upload_once_per_link"
            ),
        ]

    def __str__(self) -> str:
        return f"Series {self.series_link} from node {self.node_id}"


class ModelOutputRelease(models.Model):
    """Readers of ``scan`` may see ``model_version``'s output for it (the saliency overlay in
    the reading view) while it is not withdrawn. Rows are kept: they say who released what to
    whom and when, and when it was withdrawn."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="releases"
    )
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="model_releases")
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(auto_now_add=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["model_version", "scan", "released_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "scan"],
                condition=Q(withdrawn_at__isnull=True),
                name="model_output_released_once",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True, withdrawn_by__isnull=True)
                | Q(withdrawn_at__isnull=False, withdrawn_by__isnull=False),
                name="model_output_withdrawn_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"Release of {self.model_version_id} for scan {self.scan_id}"


SCORE_SPLITS = ("", *Split.values)  # "": scored outside the version's snapshot
# ModelScanScore's column of each class: the class's name (quote "any" in raw SQL: a keyword).
SCORE_COLUMNS = HEMORRHAGE_CLASSES


class ScanScoringRun(Job):
    """A job (``ichlabel.jobs.Job``): the scan scores of ``model_version`` for the scans in
    ``scan_ids`` that it has not scored yet (on the ``train`` queue, like the scan maps)."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="scoring_runs"
    )
    scan_ids = models.JSONField(default=list, help_text="The scans to score, in order")
    scans_total = models.PositiveIntegerField(default=0)
    scans_done = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(Job.Meta):
        ordering = ["-created_at", "-id"]
        constraints = [
            *Job.Meta.constraints,
            models.CheckConstraint(
                condition=Q(scans_done__lte=models.F("scans_total")),
                name="scan_scoring_done_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"Scoring run {self.pk} of model {self.model_version_id} ({self.scans_total} scans)"


class ModelScanScore(models.Model):
    """The scan-level score of each class (0-1; one column per class of
    ``HEMORRHAGE_CLASSES``, named in ``SCORE_COLUMNS``) that ``model_version`` gave ``scan``.
    ``split`` is the scan's split in the version's snapshot, or "" for a scan scored outside
    it (by ``run``)."""

    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="scan_scores"
    )
    scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="+")
    split = models.CharField(max_length=16, blank=True)
    any = models.FloatField()
    iph = models.FloatField()
    ivh = models.FloatField()
    sah = models.FloatField()
    sdh = models.FloatField()
    edh = models.FloatField()
    run = models.ForeignKey(
        ScanScoringRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scored_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model_version", "scan"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "scan"], name="model_scan_score_once_per_scan"
            ),
            models.CheckConstraint(
                condition=Q(split__in=SCORE_SPLITS), name="model_scan_score_split_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    **{
                        f"{name}__{bound}": limit
                        for name in SCORE_COLUMNS
                        for bound, limit in (("gte", 0.0), ("lte", 1.0))
                    }
                ),
                name="model_scan_score_in_unit_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Scores of scan {self.scan_id} by model {self.model_version_id}"


LIKERT_SCALE = (1, 2, 3, 4)  # 1 bad, 2 acceptable, 3 good, 4 excellent


class LikertStudy(models.Model):
    """A blinded study of a saliency run's maps: each reader scores every map on the 4-point
    scale, one map at a time, in an order of their own, never told which method made it."""

    name = models.CharField(max_length=100, unique=True)
    saliency_run = models.ForeignKey(
        SaliencyRun, on_delete=models.PROTECT, related_name="likert_studies"
    )
    readers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="likert_studies")
    seed = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Likert study {self.name}"


class LikertCase(models.Model):
    """One map as the study's readers meet it: by ``token`` alone, which differs from the
    map's own token, so nothing a reader receives leads back to the method."""

    study = models.ForeignKey(LikertStudy, on_delete=models.CASCADE, related_name="cases")
    saliency_map = models.ForeignKey(SaliencyMap, on_delete=models.PROTECT, related_name="+")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study", "saliency_map"], name="likert_case_one_per_map"
            ),
        ]

    def __str__(self) -> str:
        return f"Likert case {self.token}"


class LikertScore(models.Model):
    """A reader's place in their own order of the study's cases, and their score (empty until
    scored; an undo empties it again)."""

    study = models.ForeignKey(LikertStudy, on_delete=models.CASCADE, related_name="scores")
    case = models.ForeignKey(LikertCase, on_delete=models.CASCADE, related_name="scores")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["study", "reader", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "reader"], name="likert_score_one_per_reader"),
            models.UniqueConstraint(
                fields=["study", "reader", "position"], name="likert_score_position"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=4),
                name="likert_score_on_the_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"Likert score {self.position} of reader {self.reader_id}"
