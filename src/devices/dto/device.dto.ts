import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageQueryDto } from '../../common/page-query.dto';
import { IsBoolean, IsOptional, IsString, Length, ValidateIf } from 'class-validator';

export class MediaDeviceDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) boxId: string;
  @ApiProperty({ description: 'media_device_id as the box names it.' }) deviceId: string;
  @ApiProperty({ nullable: true, type: String, example: 'rtsp', description: 'photo | rtsp | file as sent.' }) type: string | null;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) name: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Stream URL, with any user:password removed.' }) url: string | null;
  @ApiProperty({ description: 'Epoch ms.' }) firstSeenAt: number;
  @ApiProperty({ description: 'Epoch ms.' }) lastSeenAt: number;
  @ApiProperty() recordCount: number;
}

export class BoxDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'mq_license_key the box sends.' }) licenseKey: string;
  @ApiProperty({ nullable: true, type: String, description: 'Operator-given name.' }) name: string | null;
  @ApiProperty({ description: "A disabled box's pushes are refused." }) enabled: boolean;
  @ApiProperty({ nullable: true, type: String, example: '2.0' }) apiVersion: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Source address of the last push.' }) lastAddress: string | null;
  @ApiProperty({ description: 'Epoch ms.' }) firstSeenAt: number;
  @ApiProperty({ description: 'Epoch ms.' }) lastSeenAt: number;
  @ApiProperty() mediaDeviceCount: number;
  @ApiProperty() recordCount: number;
}

export class BoxPageDto {
  @ApiProperty({ type: [BoxDto] }) items: BoxDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as cursor for the next page; null at the end.' }) nextCursor:
    string | null;
}

/** limit + cursor: boxes in the order they first pushed. */
export class BoxListQueryDto extends PageQueryDto {}

export class BoxDetailDto extends BoxDto {
  @ApiProperty({ type: [MediaDeviceDto] })
  mediaDevices: MediaDeviceDto[];
}

export class UpdateBoxDto {
  @ApiPropertyOptional({ nullable: true, type: String, maxLength: 200, description: 'New name; null clears it.' })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @Length(1, 200)
  name?: string | null;

  @ApiPropertyOptional({ description: "false refuses the box's pushes (403) until enabled again." })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
