# FitBuddy's image: the Django app, its Celery worker, the real Flyway command line (installed
# from Maven Central through tools/flyway/pom.xml, as on a developer's machine) and the fleet
# runner compiled against it (hence a JDK, not only a JRE).
FROM python:3.11-slim-bookworm

# No FITBUDDY_ENV here: whoever runs the image says which environment it is (compose: local).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
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
# Static files (the admin's) collected for WhiteNoise; the environment is named for this step only.
RUN FITBUDDY_ENV=local .venv/bin/python manage.py collectstatic --noinput -v 0

EXPOSE 8000
# gunicorn: WEB_CONCURRENCY worker processes of 4 threads each. Inside the container it listens
# on every interface; compose publishes it on 127.0.0.1 only. gunicorn.conf.py sets Prometheus'
# multiprocess mode up; requests are logged by FitBuddy (JSON, with the request id and the gym).
CMD ["sh", "-c", "exec .venv/bin/gunicorn fitbuddy.wsgi:application -c gunicorn.conf.py --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-2} --threads 4"]
