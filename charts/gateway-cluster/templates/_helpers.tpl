{{- define "gwc.name" -}}gateway-cluster-operator{{- end -}}

{{- define "gwc.fullname" -}}
{{- if contains "gateway-cluster" .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-gateway-cluster" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "gwc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gwc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gwc.labels" -}}
{{ include "gwc.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "gwc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "gwc.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- /* The operator's image; GatewayClusters that pin none run operandImage, or else this same image. */ -}}
{{- define "gwc.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
