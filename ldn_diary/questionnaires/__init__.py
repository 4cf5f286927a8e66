"""Questionnaires on schedule: FIQR, PGIC and the ACR 2016 criteria (docs/clinical-rules.md §4).

A layer between the diary and trends: it reads the dose history (for the schedule) through the
diary's selectors and scores answers with ``ldn_diary.clinical``; the trends command, the clinic
and core read it. The diary's entry page loads the due cards from this app's URL with htmx, so
the diary never imports it.
"""
