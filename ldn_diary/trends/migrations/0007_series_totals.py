# The series store 7-day totals (small integers) instead of means and changes (floats).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

import ldn_diary.trends.models

# What a summary computed before this migration says it came from, so that it reads as behind
# (selectors.summary_status) until recomputed; never the engine's real version.
PRE_TOTALS = "pre-totals"


def mark_everyone_for_recompute(apps, schema_editor):
    """The old series are dropped, not converted (a mean over fewer than 4 days was not kept, so
    its total cannot be recovered): every patient with a summary is marked dirty, and their
    summary as from an older engine, so pages say "not yet updated" and the next sweep (every 5
    minutes) or nightly job recomputes their series. The summaries stay readable meanwhile.
    """
    ResponseSummary = apps.get_model("trends", "ResponseSummary")
    TrendState = apps.get_model("trends", "TrendState")
    ids = list(ResponseSummary.objects.values_list("patient_id", flat=True))
    ResponseSummary.objects.update(engine_version=PRE_TOTALS, days_digest="")
    TrendState.objects.bulk_create(
        [TrendState(patient_id=pid) for pid in ids], ignore_conflicts=True
    )
    TrendState.objects.filter(patient_id__in=ids, dirty_since__isnull=True).update(
        dirty_since=timezone.now()
    )
    TrendState.objects.filter(patient_id__in=ids).update(queued_at=None, failed_at=None)


def _series(dtype, help_text):
    return ldn_diary.trends.models.SeriesField(dtype=dtype, help_text=help_text)


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("trends", "0006_summary_columns"),
    ]

    operations = [
        migrations.RunPython(mark_everyone_for_recompute, migrations.RunPython.noop),
        migrations.DeleteModel(name="TrendSeries"),
        migrations.CreateModel(
            name="TrendSeries",
            fields=[
                (
                    "patient",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="trend_series",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("start", models.DateField()),
                ("end", models.DateField()),
                (
                    "dose_ug",
                    _series(
                        "int32", "Micrograms in effect each day (0 = stopped, -1 = no dose yet)."
                    ),
                ),
                ("logged", _series("bool", "The patient wrote an entry that day.")),
                ("pain_total7", _series("int16", "Sum of pain over the 7 days ending each day.")),
                (
                    "fatigue_total7",
                    _series("int16", "Sum of fatigue over the 7 days ending each day."),
                ),
                (
                    "sleep_total7",
                    _series("int16", "Sum of sleep quality over the 7 days ending each day."),
                ),
                ("mood_total7", _series("int16", "Sum of mood over the 7 days ending each day.")),
                (
                    "base_n",
                    models.PositiveSmallIntegerField(
                        help_text=(
                            "Days logged in the baseline the changes are measured from; "
                            "0 = none valid."
                        )
                    ),
                ),
                (
                    "pain_base_total",
                    models.PositiveSmallIntegerField(help_text="Sum of pain in the baseline."),
                ),
                (
                    "fatigue_base_total",
                    models.PositiveSmallIntegerField(help_text="Sum of fatigue in the baseline."),
                ),
                (
                    "sleep_base_total",
                    models.PositiveSmallIntegerField(help_text="Sum of sleep in the baseline."),
                ),
                (
                    "mood_base_total",
                    models.PositiveSmallIntegerField(help_text="Sum of mood in the baseline."),
                ),
                ("last_pain_r7", models.FloatField(blank=True, null=True)),
                ("last_pain_pct", models.FloatField(blank=True, null=True)),
            ],
        ),
    ]
