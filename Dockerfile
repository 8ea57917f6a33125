FROM python:3.11-slim
RUN useradd --create-home --uid 10001 fieldops
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
COPY core core
COPY fieldwork fieldwork
COPY api api
COPY dispatch dispatch
COPY iot iot
COPY inventory inventory
COPY mobile_contract mobile_contract
COPY fieldops fieldops
RUN pip install --no-cache-dir -c requirements.lock . && mkdir -p /data && chown fieldops /data
USER fieldops
ENV FIELDOPS_DATA_DIR=/data
EXPOSE 8000
ENTRYPOINT ["fieldops"]
CMD ["serve", "--host", "0.0.0.0"]
