# FitBuddy's image: the Django app, its Celery worker, the real Flyway command line (installed
# from Maven Central through tools/flyway/pom.xml, as on a developer's machine) and the fleet
# runner compiled against it (hence a JDK, not only a JRE).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 FITBUDDY_ENV=local
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jdk-headless maven postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN python -m venv .venv && .venv/bin/pip install --no-cache-dir -r requirements.txt
COPY tools/flyway/pom.xml tools/flyway/install.sh tools/flyway/flyway tools/flyway/fleet tools/flyway/
COPY tools/flyway/runner tools/flyway/runner
RUN tools/flyway/install.sh && rm -rf /root/.m2
COPY . .

EXPOSE 8000
CMD [".venv/bin/python", "manage.py", "runserver", "0.0.0.0:8000"]
