# The app on port 7860 as UID 1000 (the Docker-Space convention); the default BERT is inside the image (it is a PyPI
# package), so the container needs no network at run time.
FROM python:3.11-slim
RUN useradd --create-home --uid 1000 user
USER user
ENV PATH="/home/user/.local/bin:$PATH" GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=7860 \
    WORKBENCH_RUNS_DIR=/home/user/runs
WORKDIR /home/user/app
COPY --chown=user requirements.txt .
RUN pip install --no-cache-dir --user -r requirements.txt
COPY --chown=user . .
EXPOSE 7860
CMD ["python", "app.py"]
